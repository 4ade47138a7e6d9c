package detect

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// The built-in detectors share one pass over the text. A 256-entry table
// classifies each byte; the loop skips every byte whose class is zero and
// hands the others (digits, '+', '(', '@', ':', '-', '_', 'K', 'S', 'z'
// and 'J') to a matcher, which looks at a bounded stretch of text around
// that byte, appends what it finds and says where the loop goes on. The
// commonest cases (digits inside a word, short numbers, timestamps) are
// settled in the loop itself. No matcher looks more than maxBack bytes
// behind its trigger or more than the scanner's lookahead past it, so a
// stream can run the same loop over a window of the input, pause where the
// window ends and go on when more has been read, with exactly the result
// of one pass over the whole input.
//
// A matcher may also step over text where it knows no match can start
// (the rest of a word, a timestamp's time): since every matcher checks
// the byte before a match, running it there would find nothing either.

// Indexes of the built-in types, in the order of [builtinTypes].
const (
	tEmail = iota
	tPhone
	tCard
	tIBAN
	tZAID
	tIPv4
	tIPv6
	tSSN
	tNINO
	tAPIKey
	tJWT
	tPEM
	tURL
	numBuiltin
)

// builtinTypes lists the built-in types, indexed by the constants above.
var builtinTypes = [numBuiltin]Type{
	Email, Phone, Card, IBAN, ZAID, IPv4, IPv6, USSSN, UKNINO, APIKey, JWT, PrivateKey, URLCredentials,
}

// Maximum spans of the built-in types, in bytes: no finding of a type is
// longer, and longer candidates are not findings. They are documented in
// the package doc.
var builtinMaxSpan = [numBuiltin]int{
	tEmail:  254,
	tPhone:  maxTokLen,
	tCard:   maxTokLen,
	tIBAN:   maxIBAN + maxIBAN/4,
	tZAID:   16,
	tIPv4:   15,
	tIPv6:   maxIPv6Run,
	tSSN:    11,
	tNINO:   13,
	tAPIKey: maxAPIKey,
	tJWT:    maxJWT,
	tPEM:    maxPEM,
	tURL:    maxURL,
}

// maxBack is the furthest a matcher looks behind the byte that triggered
// it (the local part of an e-mail address before its '@', a URL's scheme
// before "://"), plus the byte before a match that must not continue it.
const maxBack = 72

// maxContext is how far before a match its context words are looked for.
const maxContext = 48

// Byte classes of the main loop.
const (
	cNone = iota
	cDigit
	cPlus
	cParen
	cAt
	cColon
	cDash
	cUnderscore
	cKeyLetter // 'K', 'S', 'z' of "AKIA", "ASIA", "AIza"
	cUpperJ    // 'J' of "eyJ"
)

// Skip modes: after rejecting a run longer than any match, the loop skips
// the rest of it. The mode is kept in the scan state so that a stream can
// pause in the middle of such a run.
const (
	skipNone = iota
	skipNum  // digits and the separators of numbers
	skipHex  // hex digits, ':' and '.'
	skipWord // letters, digits and '_'
	numSkips
)

// Byte sets, as tables.
var (
	wordByte   [256]bool // [A-Za-z0-9_]
	skipTables [numSkips][256]bool
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		wordByte[c] = isAlnum(b) || b == '_'
		skipTables[skipNum][c] = isDigit(b) || b == ' ' || b == '-' || b == '.' || b == '(' || b == ')' || b == '+'
		skipTables[skipHex][c] = isHex(b) || b == ':' || b == '.'
		skipTables[skipWord][c] = wordByte[c]
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isWord(c byte) bool  { return wordByte[c] }

// builtin is the configured set of built-in matchers of a Scanner.
type builtin struct {
	on      [numBuiltin]bool
	class   [256]uint8
	minConf Confidence
	// lookahead is the furthest any enabled matcher reads past its trigger.
	lookahead int
	// maxSpan is the longest finding of an enabled type.
	maxSpan int
	any     bool // any type enabled
	// minText[c], for a trigger byte c whose matcher can only find
	// something long (a key, a token, a PEM block), is the length of the
	// shortest text in which that matcher, called at c, finds anything or
	// steps over anything; the pre-pass (start) passes over c in shorter
	// texts. It is zero for the other bytes.
	minText [256]uint16
	// settles[c] is set if the pre-pass may settle a trigger c: a digit,
	// or a byte that minText gates.
	settles [256]bool
	// quick[quickIndex(set, n)] is how many digits a text of n bytes, at
	// most maxQuick, that holds the bytes set (of holdDot, holdAt,
	// holdColon) and no others of them, needs to hold a finding of an
	// enabled type (see builtinHolds); 0xff if none can.
	quick [256]uint8
}

func newBuiltin(types []bool, minConf Confidence) *builtin {
	b := &builtin{minConf: minConf}
	copy(b.on[:], types)
	set := func(class uint8, bytes string, types ...int) {
		for _, t := range types {
			if b.on[t] {
				for i := 0; i < len(bytes); i++ {
					b.class[bytes[i]] = class
				}
				return
			}
		}
	}
	set(cDigit, "0123456789", tPhone, tCard, tIBAN, tZAID, tIPv4, tSSN, tNINO)
	set(cPlus, "+", tPhone)
	set(cParen, "(", tPhone)
	set(cAt, "@", tEmail)
	set(cColon, ":", tIPv6, tURL)
	set(cDash, "-", tPEM, tAPIKey)
	set(cUnderscore, "_", tAPIKey)
	set(cKeyLetter, "KSz", tAPIKey)
	set(cUpperJ, "J", tJWT)
	for t, on := range b.on {
		if !on {
			continue
		}
		b.any = true
		b.maxSpan = max(b.maxSpan, builtinMaxSpan[t])
		// A matcher reads at most its type's span past the trigger, plus a
		// few bytes to see that the match ends there.
		b.lookahead = max(b.lookahead, builtinMaxSpan[t]+16)
	}
	b.setMinText()
	b.setQuick()
	return b
}

// Shortest matches of the matchers that minText gates.
const (
	// minJWTText is the shortest JSON Web Token: a header, '.', a payload
	// and '.' (the signature may be empty).
	minJWTText = minJWTHeader + 1 + minJWTPayload + 1
	// minPEMText is the shortest PEM block the pem matcher reads: a
	// one-letter label and the shortest body of a complete block. A
	// block without its END line needs more (minTruncatedPEMBody).
	minPEMText = len("-----BEGIN ") + 1 + len("-----") + minPEMBody + len("-----END ") + 1 + len("-----")
)

// setMinText sets b.minText from the key formats and the shortest JWT and
// PEM block: the matcher of a key byte ('-', '_', 'K', 'S', 'z') finds
// only keys whose prefix holds that byte, dash also PEM blocks, and jwt
// only tokens.
func (b *builtin) setMinText() {
	gate := func(c byte, n int) {
		if b.class[c] == cNone {
			return
		}
		if b.minText[c] == 0 || n < int(b.minText[c]) {
			b.minText[c] = uint16(min(n, 1<<16-1))
		}
	}
	if b.on[tAPIKey] {
		for _, f := range keyFormats {
			for _, c := range []byte("-_KSz") {
				if strings.IndexByte(f.prefix, c) >= 0 {
					gate(c, len(f.prefix)+f.min)
				}
			}
		}
	}
	if b.on[tPEM] {
		gate('-', minPEMText)
	}
	if b.on[tJWT] {
		gate('J', minJWTText)
	}
	for c := range 256 {
		b.settles[c] = b.class[c] == cDigit || b.minText[c] > 0
	}
}

// start returns where the main loop over the whole of text must start to
// find what it would find starting at 0, given that no byte before i is a
// trigger: the first trigger that it cannot
// settle without the loop, or len(text). Most short strings in logs hold
// no byte that starts a finding, or only bytes that cannot start one in a
// text as short, and short numbers; they are settled here, without
// setting up the main loop. Passing over a byte here is the same as the
// loop's calling a matcher that finds nothing there and goes on at the
// next byte, or settling a number as the loop does (shortDigits).
func (b *builtin) start(text []byte, i int) int {
	n := len(text)
	cls := &b.class
	for ; i < n; i = b.nextTrigger(text, i) {
		c := text[i]
		if cls[c] == cDigit {
			e, how := shortDigits(text, i)
			if how != digitSettled {
				return i
			}
			// The loop would also step over a ':' after e that needs no
			// look (after); here the ':', if a trigger, goes to the loop,
			// whose matcher steps over it just the same.
			i = e
			continue
		}
		if n >= int(b.minText[c]) {
			return i
		}
		i++
	}
	return n
}

// What shortDigits says of a digit.
const (
	digitSettled = iota // nothing starts there: go on at the returned index
	digitMatcher        // call the digit matcher
	digitRun            // look at the number with numberRun first
)

// shortDigits settles a digit at i for the pre-pass as the main loop's
// digit case and digit do (the loop's code is its own, inline, for speed;
// TestStartIsTheLoop holds the two to the same results). Digits inside a
// word (a hash, "x86", "IPV4") and numbers too short for any type, unless
// a separator may join more digits to them ("200", "12.4ms"), are
// settled. It says to call the matcher after two capitals that start a
// word (an IBAN or a UK NINO?) or after a space after a capital, and to
// look at a longer number, or one that a separator may continue, with
// numberRun.
func shortDigits(text []byte, i int) (int, uint8) {
	n := len(text)
	if i > 0 && wordByte[text[i-1]] {
		if isUpper(text[i-1]) && i >= 2 && isUpper(text[i-2]) && (i == 2 || !isWord(text[i-3])) {
			return i, digitMatcher // an IBAN or a UK NINO?
		}
		return skipWordFrom(text, i+1), digitSettled // as digit does
	}
	if i >= 3 && text[i-1] == ' ' && isUpper(text[i-2]) {
		return i, digitMatcher // a UK NINO, "QQ 123456 C"?
	}
	e := i + 1
	for e < n && isDigit(text[e]) {
		e++
	}
	if e-i >= 9 {
		return i, digitRun
	}
	if e == n {
		return e, digitSettled // "ord-7731"
	}
	c := text[e]
	if wordByte[c] {
		return skipWordFrom(text, e+1), digitSettled
	}
	if c != '-' && c != '.' && c != '(' && c != ')' &&
		(c != ' ' || e+1 == n || !isDigit(text[e+1]) && text[e+1] != '(') {
		return e, digitSettled
	}
	return i, digitRun
}

// skipPlain returns the index of the first byte of text that is not a
// lower-case ASCII letter from 'a' to 'y' or a space, none of which ever
// triggers a matcher, looking at eight bytes at a time; or, if there is
// none, the index of the last len(text)%8 bytes, which it leaves to
// plainTail. Log messages and values are mostly such bytes. It is small
// enough to be inlined.
func skipPlain(text []byte) int {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64(text[i:])
		y := x &^ high // no byte of y carries into the next below
		letter := (y + (0x80-'a')*ones) &^ (y + (0x80-'z')*ones)
		space := ^((y ^ ' '*ones) + 0x7f*ones) // high bit set where y is ' '
		if plain := (letter | space) & high &^ x; plain != high {
			return i + bits.TrailingZeros64(^plain&high)/8
		}
	}
	return i
}

// plainTail returns the index of the first byte that is not plain, as
// skipPlain says, in the last eight bytes of text, which holds eight or
// more, or len(text): where skipPlain stopped before the last
// len(text)%8 bytes, the caller looks at them with it, overlapping bytes
// that were plain.
func plainTail(text []byte) int {
	last := len(text) - 8
	return last + plainBytes(binary.LittleEndian.Uint64(text[last:]))
}

// plainBytes returns how many of the eight bytes of x, from its lowest,
// are plain for skipPlain.
// (skipPlain repeats this arithmetic rather than call it: with the call it
// would be too large to inline, and it runs on every scanned string.)
func plainBytes(x uint64) int {
	y := x &^ high // no byte of y carries into the next below
	letter := (y + (0x80-'a')*ones) &^ (y + (0x80-'z')*ones)
	space := ^((y ^ ' '*ones) + 0x7f*ones) // high bit set where y is ' '
	plain := (letter | space) & high &^ x
	return bits.TrailingZeros64(^plain&high) / 8
}

// skipWordFrom returns the end of the word that goes on at i.
func skipWordFrom(text []byte, i int) int {
	for i < len(text) && wordByte[text[i]] {
		i++
	}
	return i
}

// scanState is where a pass over the text stands: the next byte to look
// at, and whether it is in the middle of a run being skipped.
type scanState struct {
	pos  int
	skip uint8
}

// scan is one run of the main loop over text.
type scan struct {
	b    *builtin
	text []byte
	// found holds the first findings that the matchers emit, and more the
	// rest, until run appends them to its dst, which is kept out of scan so
	// that it does not escape: a caller's array on the stack can stay there.
	n     int
	found [4]Finding
	more  []Finding
}

// run appends to dst the built-in findings that the loop makes from
// st.pos on, with offsets into text, and advances st. If eof is false,
// text is a window that will grow: run stops at the first trigger whose
// matcher might read past its end, and at the end of a skipped run, so
// that a later call with more text goes on exactly where this one stopped.
// Findings are not sorted: a match may start before the previous one.
func (b *builtin) run(dst []Finding, text []byte, st *scanState, eof bool) []Finding {
	// Set field by field: a composite literal is built in a temporary and
	// copied, and the copy's wide loads of words just stored stall, which
	// costs more than the whole loop on a short string.
	var s scan
	s.b, s.text = b, text
	n := len(text)
	i := st.pos
	limit := n
	if !eof {
		limit = n - b.lookahead
	}
	skip := st.skip
	cls := &b.class
	for {
		if skip != skipNone {
			tbl := &skipTables[skip]
			for i < n && tbl[text[i]] {
				i++
			}
			if i == n && !eof {
				break
			}
			skip = skipNone
		}
		i = b.nextTrigger(text, i)
		if i >= n || i >= limit {
			break
		}
		switch cls[text[i]] {
		case cDigit:
			// The common cases are settled here: digits inside a word
			// (a hash, "x86"), and numbers that are too short or glued
			// to a word ("200", "12:", "12.4ms", "2026-01-20T10"). The
			// rest goes to s.digit.
			if i > 0 && wordByte[text[i-1]] {
				if isUpper(text[i-1]) {
					i, skip = s.digit(i) // an IBAN or UK NINO?
					break
				}
				i = s.after(s.skipWord(i+1), limit)
				continue
			}
			if i >= 3 && text[i-1] == ' ' && isUpper(text[i-2]) {
				i, skip = s.digit(i) // a UK NINO, "QQ 123456 C"?
				break
			}
			e := i + 1
			for e < n && isDigit(text[e]) {
				e++
			}
			if e == n && e-i < 9 {
				i = e // too short a number at the end of the text ("ord-7731")
				continue
			}
			if e < n && e-i < 9 {
				c := text[e]
				if wordByte[c] {
					i = s.after(s.skipWord(e+1), limit)
					continue
				}
				if c != '-' && c != '.' && c != '(' && c != ')' &&
					(c != ' ' || e+1 == n || !isDigit(text[e+1]) && text[e+1] != '(') {
					i = s.after(e, limit)
					continue
				}
			}
			e, groups, nothing := numberRun(text, i)
			if nothing {
				if e < n && wordByte[text[e]] {
					e = s.skipWord(e + 1)
				}
				i = s.after(e, limit)
				continue
			}
			// What digit would do here, where the byte before i is
			// neither a word's nor a space after a capital.
			i, skip = s.numberFrom(i, e, groups, false)
		case cPlus, cParen:
			i, skip = s.plusOrParen(i)
		case cAt:
			i = s.email(i)
		case cColon:
			i, skip = s.colon(i)
		case cDash:
			i = s.dash(i)
		case cUnderscore:
			i = s.underscore(i)
		case cKeyLetter:
			i = s.keyLetter(i)
		case cUpperJ:
			i = s.jwt(i)
		}
		// Every call of a matcher comes here; the cases settled in the
		// loop itself, which emit nothing, go on above without coming here.
		if s.n > 0 {
			dst = s.flush(dst)
		}
	}
	st.pos, st.skip = i, skip
	return dst
}

// flush appends to dst what the matchers emitted since the last flush.
func (s *scan) flush(dst []Finding) []Finding {
	// Field by field, as emit stored them: a copy of whole Findings (or of
	// a Finding built on the stack) loads words just stored two at a time,
	// which stalls.
	k := len(dst)
	dst = slices.Grow(dst, s.n)[:k+s.n]
	for i := range s.n {
		f, g := &s.found[i], &dst[k+i]
		g.Type, g.Start, g.End, g.Confidence = f.Type, f.Start, f.End, f.Confidence
	}
	dst = append(dst, s.more...)
	s.n, s.more = 0, s.more[:0]
	return dst
}

// nextTrigger returns the index of the first byte of text from i on that
// the main loop hands to a matcher, or len(text) if there is none: the
// bytes whose class is cNone are skipped, four at a time while they last.
func (b *builtin) nextTrigger(text []byte, i int) int {
	cls := &b.class
	for i+4 <= len(text) && cls[text[i]]|cls[text[i+1]]|cls[text[i+2]]|cls[text[i+3]] == cNone {
		i += 4
	}
	for i < len(text) && cls[text[i]] == cNone {
		i++
	}
	return i
}

// skipWord returns the end of the word that goes on at i.
func (s *scan) skipWord(i int) int {
	for i < len(s.text) && wordByte[s.text[i]] {
		i++
	}
	return i
}

// after returns where the loop goes on after a word or number that ends
// at i: past a ':' that needs no look (most of those in timestamps), else
// at i.
func (s *scan) after(i, limit int) int {
	if i < limit && s.text[i] == ':' && s.b.class[':'] == cColon && s.colonIdle(i) {
		return i + 1
	}
	return i
}

// emit appends a finding of built-in type t, after raising its confidence
// if context words for t stand before it, unless it is below the
// scanner's minimum confidence.
func (s *scan) emit(t, start, end int, conf Confidence) {
	if conf < High && len(contextWords[t]) > 0 && hasContext(s.text, start, contextWords[t]) {
		conf++
	}
	if conf < s.b.minConf {
		return
	}
	if s.n < len(s.found) {
		// Field by field: a Finding built whole and then copied is loaded
		// wide from words just stored, which stalls.
		f := &s.found[s.n]
		f.Type, f.Start, f.End, f.Confidence = builtinTypes[t], start, end, conf
		s.n++
		return
	}
	s.more = append(s.more, Finding{Type: builtinTypes[t], Start: start, End: end, Confidence: conf})
}

// boundaryBefore reports whether a match may start at i: the byte before
// it, if any, is not a letter, digit or '_'.
func (s *scan) boundaryBefore(i int) bool { return i == 0 || !isWord(s.text[i-1]) }

// boundaryAfter reports whether a match may end at i: the byte there, if
// any, is not a letter, digit or '_'.
func (s *scan) boundaryAfter(i int) bool { return i >= len(s.text) || !isWord(s.text[i]) }

// contextWords are the words that, standing shortly before a match of a
// built-in type, raise its confidence by one level. Types whose findings
// are always of high confidence have none.
var contextWords = [numBuiltin][]string{
	tEmail: {"email", "e-mail", "mail", "contact"},
	tPhone: {"phone", "tel", "mobile", "cell", "fax", "call", "sms", "whatsapp", "msisdn", "contact", "landline"},
	tIPv4:  {"ip", "addr", "client", "remote", "host", "peer", "src", "dst", "from", "forwarded"},
	tIPv6:  {"ip", "addr", "client", "remote", "host", "peer", "src", "dst", "from", "forwarded"},
	tSSN:   {"ssn", "social security", "soc sec", "taxpayer"},
	tNINO:  {"nino", "national insurance", "ni number", "ni no"},
}

// hasContext reports whether one of words (lower case ASCII) starts a
// word in the maxContext bytes of text before start, on the same line,
// ignoring case.
func hasContext(text []byte, start int, words []string) bool {
	from := max(0, start-maxContext)
	var buf [maxContext]byte
	k := 0
	for j := from; j < start; j++ {
		c := text[j]
		if c == '\n' {
			k = 0
			continue
		}
		if isUpper(c) {
			c += 'a' - 'A'
		}
		buf[k] = c
		k++
	}
	w := buf[:k]
	for j := 0; j < len(w); j++ {
		c := w[j]
		if !isLower(c) || j > 0 && isLower(w[j-1]) {
			continue // not the start of a word
		}
		for _, word := range words {
			if word[0] == c && j+len(word) <= len(w) && string(w[j:j+len(word)]) == word {
				return true
			}
		}
	}
	return false
}
