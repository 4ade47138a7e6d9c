package detect

// Numbers: payment cards, phone numbers, South African ID numbers, US
// social security numbers and IPv4 addresses start as a run of digits,
// IBANs and UK National Insurance numbers as two capitals before one. The
// run is read once into groups of digits and their separators (the
// "token"), rejected cheaply by its shape, and only then validated.

// Token limits: a run of digits and separators longer than maxTokLen bytes
// or with more than maxTokGroups groups of digits is no number of any
// built-in type (a card number with spaces, the longest, takes 23 bytes),
// and is skipped whole.
const (
	maxTokLen    = 40
	maxTokGroups = 16
	maxChunks    = 6 // the most space-separated parts of one number
)

// numTok is a number read from the text: groups of digits with what
// separates them.
// Only the first n entries of its arrays are meaningful, so that one
// numTok can be reused without clearing.
type numTok struct {
	start, end int // the token, from its '+', '(' or first digit to its last digit or ')'
	n          int // groups
	gs, ge     [maxTokGroups]int
	sep        [maxTokGroups]byte // the separator before each group: ' ', '-', '.', or 0
	paren      [maxTokGroups]bool // the group is in parentheses
	plus       bool               // the token starts with '+'
}

// digits returns the number of digits in groups ga to gb.
func (t *numTok) digits(ga, gb int) int {
	d := 0
	for g := ga; g < gb; g++ {
		d += t.ge[g] - t.gs[g]
	}
	return d
}

// digit handles a digit at i.
func (s *scan) digit(i int) (int, uint8) {
	text := s.text
	if i > 0 {
		p := text[i-1]
		if isWord(p) {
			if isUpper(p) && i >= 2 && isUpper(text[i-2]) && s.boundaryBefore(i-2) {
				if end := s.lettersThenDigits(i - 2); end > 0 {
					return end, skipNone
				}
			}
			return i, skipWord // digits inside a word or identifier
		}
		if p == ' ' && s.b.on[tNINO] && i >= 3 && isUpper(text[i-2]) && isUpper(text[i-3]) && s.boundaryBefore(i-3) {
			if end := s.ninoSpaced(i - 3); end > 0 {
				return end, skipNone
			}
		}
	}
	return s.number(i)
}

// plusOrParen handles a '+' or '(' at i: it starts a number only if a
// digit (or, after '+', a '(') follows.
func (s *scan) plusOrParen(i int) (int, uint8) {
	text := s.text
	if i+1 >= len(text) {
		return i + 1, skipNone
	}
	c := text[i+1]
	if isDigit(c) || (text[i] == '+' && c == '(') {
		return s.number(i)
	}
	return i + 1, skipNone
}

// number reads the number that starts at i and emits what it holds.
func (s *scan) number(i int) (int, uint8) {
	if isDigit(s.text[i]) {
		e, groups, nothing := numberRun(s.text, i)
		return s.numberFrom(i, e, groups, nothing)
	}
	return s.token(i)
}

// numberFrom is number for a digit at i, given what numberRun says of the
// digits there; the main loop, which has called numberRun, calls it
// directly.
func (s *scan) numberFrom(i, e, groups int, nothing bool) (int, uint8) {
	text := s.text
	n := len(text)
	switch {
	case nothing:
		if e < n && isWord(text[e]) {
			return e, skipWord
		}
		return e, skipNone
	case e-i > maxTokLen:
		return e, skipNum
	case groups == 1 && (e == n || !continuesNumber(text, e)):
		// One run of at least nine digits.
		t := new(numTok) // on the stack: zeroed only for numbers that get this far
		t.start, t.end, t.n, t.plus = i, e, 1, false
		t.gs[0], t.ge[0], t.sep[0], t.paren[0] = i, e, 0, false
		if s.numBoundaries(t) {
			s.classifyToken(t)
		}
		return e, skipNone
	case groups == 4 && (e == n || !continuesNumber(text, e)):
		// Four groups joined by '-' or '.': if by dots, the commonest
		// of them, an IPv4 address or nothing, read here once (as
		// classifyToken would find, after parseNum and shapeOf).
		if s.dottedQuad(i, e) {
			return e, skipNone
		}
	}
	return s.token(i)
}

// token reads the token that starts at i with parseNum, and emits what it
// holds.
func (s *scan) token(i int) (int, uint8) {
	t := new(numTok)
	end, ok, tooLong := s.parseNum(i, t)
	if tooLong {
		return end, skipNum
	}
	if !ok {
		return i + 1, skipNone
	}
	if s.numBoundaries(t) {
		s.classifyToken(t)
	}
	return t.end, skipNone
}

// dottedQuad reports whether text[i:e], four groups of digits joined by
// '-' or '.' as numberRun reads them, are joined by dots, and if so emits
// them as an IPv4 address if they are one, as numBoundaries and ipv4
// decide, reading the text once.
func (s *scan) dottedQuad(i, e int) bool {
	text := s.text[:e]
	var oct [4]int
	valid := true
	k, gs := 0, i // the group and where it starts
	for p := i; p <= len(text); p++ {
		if p < len(text) {
			if c := text[p]; isDigit(c) {
				continue
			} else if c != '.' {
				return false // '-': another kind of number
			}
		}
		v, ok := octet(text[gs:p])
		oct[k&3], valid = v, valid && ok
		k, gs = k+1, p+1
	}
	if s.boundaries(i, e) && valid && s.b.on[tIPv4] {
		s.emitIPv4(oct, i, e)
	}
	return true
}

// numberRun reads the digits at i and what '-' or '.' joins to them,
// up to e, and reports whether they are nothing to look at more closely:
// glued to a word ("12ms", "2026-01-20T10"), or too short for a number of
// any type and not followed by a space and a digit or parenthesis, which
// may join more groups. Most numbers in logs are settled here.
func numberRun(text []byte, i int) (e, groups int, nothing bool) {
	n := len(text)
	e = i + 1
	groups = 1
	digits := 1
	for e < n && e-i <= maxTokLen {
		if c := text[e]; isDigit(c) {
			digits++
		} else if (c == '-' || c == '.') && e+1 < n && isDigit(text[e+1]) {
			groups++
		} else {
			break
		}
		e++
	}
	if e-i > maxTokLen {
		return e, groups, false
	}
	if e < n {
		c := text[e]
		if c == 'T' && e-i == 10 && groups == 3 && text[i+4] == '-' && text[i+7] == '-' {
			return isoTime(text, e), groups, true
		}
		if isWord(c) {
			return e, groups, true
		}
		if c == ' ' && e+1 < n && (isDigit(text[e+1]) || text[e+1] == '(') {
			return e, groups, false // more groups may follow
		}
	}
	if groups == 1 {
		return e, groups, digits < 9
	}
	return e, groups, digits < 7 && groups != 4
}

// isoTime returns the end of the time of an ISO 8601 timestamp, "T"
// followed by hours and minutes, maybe seconds and a fraction, and maybe
// "Z", that starts at i; or i+1 if there is none. Nothing in such a time
// is a number of any type, so the scan steps over it at once.
func isoTime(text []byte, i int) int {
	two := func(at int) bool { return at+2 <= len(text) && isDigit(text[at]) && isDigit(text[at+1]) }
	if !two(i+1) || i+3 >= len(text) || text[i+3] != ':' || !two(i+4) {
		return i + 1
	}
	e := i + 6
	if e+2 < len(text) && text[e] == ':' && two(e+1) {
		e += 3
		if e+1 < len(text) && text[e] == '.' && isDigit(text[e+1]) {
			for e++; e < len(text) && e-i < 32 && isDigit(text[e]); e++ {
			}
		}
	}
	if e < len(text) && text[e] == 'Z' {
		e++
	}
	return e
}

// continuesNumber reports whether the separator at e goes on to another
// group of the same number.
func continuesNumber(text []byte, e int) bool {
	c := text[e]
	return (c == ' ' || c == '-' || c == '.') && e+1 < len(text) && (isDigit(text[e+1]) || c == ' ' && text[e+1] == '(')
}

// parseNum reads the token that starts at i into t. It returns ok false if
// there is none (a '(' that does not close a group of digits), and
// tooLong true, with where reading stopped, if the token is longer than
// any number.
//
// Groups are separated by one space, '-' or '.', or follow a closing
// parenthesis directly. Space-separated parts ("chunks") that hold a '.'
// stand alone, so that a list of IPv4 addresses is not read as one
// number.
func (s *scan) parseNum(i int, t *numTok) (end int, ok, tooLong bool) {
	text := s.text
	n := len(text)
	p := i
	t.start, t.end, t.n, t.plus = i, i, 0, false
	if text[p] == '+' {
		t.plus = true
		p++
	}
	var sep byte
	dotted := false               // the current chunk holds a '.'
	spaceAt, spaceGroups := -1, 0 // the token as it was before the last space
	lim := min(n, i+maxTokLen+1)  // reading stops here
loop:
	for {
		paren := p < lim && text[p] == '('
		if paren {
			p++
		}
		ds := p
		for p < lim && isDigit(text[p]) {
			p++
		}
		if p-i > maxTokLen {
			return p, true, true
		}
		if p == ds || (paren && (p >= n || text[p] != ')')) {
			if t.n == 0 {
				return i + 1, false, false
			}
			break // not a group: the token ends before the separator
		}
		if t.n == maxTokGroups {
			return p, true, true
		}
		t.gs[t.n], t.ge[t.n], t.sep[t.n], t.paren[t.n] = ds, p, sep, paren
		t.n++
		if paren {
			p++
		}
		t.end = p
		if p >= n {
			break
		}
		c := text[p]
		switch {
		case continuesNumber(text, p):
			switch c {
			case ' ':
				if dotted {
					break loop
				}
				spaceAt, spaceGroups = p, t.n
			case '.':
				if spaceAt >= 0 {
					t.end, t.n = spaceAt, spaceGroups
					break loop
				}
				dotted = true
			}
			sep = c
			p++
		case paren && isDigit(c):
			sep = 0
		default:
			break loop
		}
	}
	return t.end, true, false
}

// numBoundaries reports whether the token stands on its own: not glued to
// a word ("2024-01-15T10", "12ms"), not the tail or head of an identifier
// ("ORD-4111...", "10.0.0.1.example"), and not the local part of an
// e-mail address.
func (s *scan) numBoundaries(t *numTok) bool { return s.boundaries(t.start, t.end) }

// boundaries is numBoundaries for a token from st to e.
func (s *scan) boundaries(st, e int) bool {
	text := s.text
	if st > 0 {
		p := text[st-1]
		if isWord(p) || p == '+' || p == '#' {
			return false // "#12345" is a reference number
		}
		if (p == '-' || p == '.') && st >= 2 && isWord(text[st-2]) {
			return false
		}
	}
	if e < len(text) {
		c := text[e]
		if isWord(c) || c == '@' {
			return false
		}
		if (c == '-' || c == '.') && e+1 < len(text) && isWord(text[e+1]) {
			return false
		}
	}
	return true
}

// classifyToken emits what the token holds: the whole of it, or else, if
// it has parts separated by spaces, the longest runs of parts that are
// numbers, from left to right.
func (s *scan) classifyToken(t *numTok) {
	d := t.digits(0, t.n)
	if d < 7 && t.n != 4 || d > 19*maxChunks {
		return // too short for anything but an IPv4 address
	}
	if t.n == 1 && !t.plus && (d == 10 || d == 11) && s.text[t.gs[0]] != '0' {
		return // ten or eleven bare digits are a phone number only after a trunk 0
	}
	sh := new(shape)
	if t.plus && d >= 7 && d <= len(sh.d) {
		// What classify does with the whole of a token that starts
		// with '+', without describing its shape first.
		end := t.ge[t.n-1]
		if t.paren[t.n-1] {
			end++
		}
		if s.b.on[tPhone] && s.e164(t, 0, t.n, t.start, end) {
			return
		}
	}
	whole := s.shapeOf(t, 0, t.n, sh)
	if whole && !t.plus && s.classify(t, 0, t.n, sh) {
		return
	}
	if t.n < 2 || whole && t.n >= 3 && sh.oneSep() && cardLayout(sh) {
		return // a card number that failed its checks holds no other number
	}
	s.classifyChunks(t, sh)
}

// classifyChunks emits the longest runs of t's space-separated parts that
// are numbers, from left to right, the whole of t excepted; sh is space
// to work in.
func (s *scan) classifyChunks(t *numTok, sh *shape) {
	var chunk [maxTokGroups + 1]int
	nc := 0
	for g := 0; g < t.n; g++ {
		if g == 0 || t.sep[g] == ' ' {
			chunk[nc] = g
			nc++
		}
	}
	if nc < 2 {
		return
	}
	chunk[nc] = t.n
	for a := 0; a < nc; a++ {
		for b := min(nc, a+maxChunks); b > a; b-- {
			if (a != 0 || b != nc) && t.digits(chunk[a], chunk[b]) >= 7 &&
				s.shapeOf(t, chunk[a], chunk[b], sh) && s.classify(t, chunk[a], chunk[b], sh) {
				a = b - 1
				break
			}
		}
	}
}

// shape describes groups of a token: their digits, how many there are,
// their lengths and what separates them. Only the first nd digits and ng
// lengths are meaningful.
type shape struct {
	d                       [24]byte
	nd                      int
	ng                      int
	lens                    [maxTokGroups]int
	space, dash, dot, glued bool // separators seen
	paren0, parenRest       bool // a parenthesised first group, or a later one
}

// shapeOf describes groups ga to gb of t in sh, and reports false if they
// hold more digits than any number.
func (s *scan) shapeOf(t *numTok, ga, gb int, sh *shape) bool {
	sh.nd, sh.ng = 0, gb-ga
	sh.space, sh.dash, sh.dot, sh.glued, sh.paren0, sh.parenRest = false, false, false, false, false, false
	for g := ga; g < gb; g++ {
		l := t.ge[g] - t.gs[g]
		if sh.nd+l > len(sh.d) {
			return false
		}
		copy(sh.d[sh.nd:], s.text[t.gs[g]:t.ge[g]])
		sh.nd += l
		sh.lens[g-ga] = l
		if g > ga {
			switch t.sep[g] {
			case ' ':
				sh.space = true
			case '-':
				sh.dash = true
			case '.':
				sh.dot = true
			default:
				sh.glued = true
			}
		}
		if t.paren[g] {
			if g == ga {
				sh.paren0 = true
			} else {
				sh.parenRest = true
			}
		}
	}
	return true
}

// is reports whether the group lengths are exactly lens.
func (sh *shape) is(lens ...int) bool {
	if sh.ng != len(lens) {
		return false
	}
	for i, l := range lens {
		if sh.lens[i] != l {
			return false
		}
	}
	return true
}

// oneSep reports whether at most one kind of separator is used, and no
// parenthesis.
func (sh *shape) oneSep() bool {
	k := 0
	for _, b := range [...]bool{sh.space, sh.dash, sh.dot, sh.glued} {
		if b {
			k++
		}
	}
	return k <= 1 && !sh.paren0 && !sh.parenRest
}

// classify emits groups ga to gb of t, described by sh, as a number of
// some built-in type, if they are one, and reports whether they were.
func (s *scan) classify(t *numTok, ga, gb int, sh *shape) bool {
	d := sh.d[:sh.nd]
	plus := ga == 0 && t.plus
	if len(d) < 7 && (sh.ng != 4 || plus) {
		return false // too short for anything but an IPv4 address
	}
	start, end := t.gs[ga], t.ge[gb-1]
	if t.paren[ga] {
		start--
	}
	if t.paren[gb-1] {
		end++
	}
	if plus {
		start = t.start
		return s.b.on[tPhone] && s.e164(t, ga, gb, start, end)
	}
	if sh.dot {
		if sh.ng == 4 && sh.oneSep() {
			return s.ipv4(t, ga, start, end)
		}
		return sh.oneSep() && s.nationalPhone(d, sh, start, end)
	}
	D := len(d)
	if D == 13 && s.b.on[tZAID] && sh.oneSep() && !sh.glued &&
		(sh.ng == 1 || sh.is(6, 4, 3) || sh.is(6, 7) || sh.is(6, 4, 2, 1)) && validZAID(d) {
		s.emit(tZAID, start, end, High)
		return true
	}
	if D >= 12 && D <= 19 && s.b.on[tCard] && sh.oneSep() && !sh.glued && cardLayout(sh) && validCard(d) {
		s.emit(tCard, start, end, High)
		return true
	}
	if D == 9 && s.b.on[tSSN] && !sh.paren0 && !sh.parenRest && validSSN(d) {
		switch {
		case sh.is(3, 2, 4) && sh.dash && !sh.space:
			s.emit(tSSN, start, end, Medium)
			return true
		case (sh.ng == 1 || sh.is(3, 2, 4) && sh.space && !sh.dash) && hasContext(s.text, start, contextWords[tSSN]):
			// Nine bare digits are a social security number only where
			// the text says so; emit raises Low to Medium.
			s.emit(tSSN, start, end, Low)
			return true
		}
	}
	return s.nationalPhone(d, sh, start, end)
}

// cardLayout reports whether the groups are laid out as card numbers are
// written: all digits together, groups of four with a shorter last group,
// or American Express and Diners Club's 4-6-5 and 4-6-4.
func cardLayout(sh *shape) bool {
	if sh.ng == 1 || sh.is(4, 6, 5) || sh.is(4, 6, 4) {
		return true
	}
	if sh.ng < 3 {
		return false
	}
	for _, l := range sh.lens[:sh.ng-1] {
		if l != 4 {
			return false
		}
	}
	return sh.lens[sh.ng-1] <= 4
}

// nationalPhone emits the digits d as a phone number in a national
// format, if they are one: South African and other trunk-prefixed numbers
// of ten digits (0XX XXX XXXX, 0XX XXXXXXX), British ones of eleven (0XXXX XXXXXX,
// 0XX XXXX XXXX, ...), and North American ones ((XXX) XXX-XXXX,
// XXX-XXX-XXXX, 1-XXX-XXX-XXXX). All digits together, such a number is
// of low confidence; in its usual groups, medium.
func (s *scan) nationalPhone(d []byte, sh *shape, start, end int) bool {
	if !s.b.on[tPhone] || sh.parenRest || (sh.paren0 && sh.ng == 1) {
		return false
	}
	D := len(d)
	conf := Medium
	switch {
	case D == 10 && d[0] == '0' && d[1] >= '1' && d[1] <= '8':
		switch {
		case sh.ng == 1:
			conf = Low
		case !sh.is(3, 3, 4) && !sh.is(3, 7):
			return false
		}
	case D == 11 && d[0] == '0' && (d[1] == '1' || d[1] == '2' || d[1] == '3' || d[1] == '5' || d[1] == '7' || d[1] == '8'):
		switch {
		case sh.ng == 1:
			conf = Low
		case !(sh.is(5, 6) || sh.is(4, 3, 4) || sh.is(3, 4, 4) || sh.is(4, 7) || sh.is(5, 3, 3)):
			return false
		}
	case D == 10 && d[0] >= '2' && d[3] >= '2':
		if !sh.is(3, 3, 4) {
			return false
		}
	case D == 11 && d[0] == '1' && d[1] >= '2' && d[4] >= '2':
		if !sh.is(1, 3, 3, 4) || sh.paren0 {
			return false
		}
	default:
		return false
	}
	s.emit(tPhone, start, end, conf)
	return true
}

// e164 emits groups ga to gb of t, written with a leading '+', as an
// international phone number if they are one. A "(0)" after the country
// code, and a trunk 0 written after it, are not part of the number.
func (s *scan) e164(t *numTok, ga, gb, start, end int) bool {
	// The digits of the groups, read from the text between them in one
	// loop: what stands between groups is separators and parentheses,
	// and a '(' always opens a group of digits.
	var buf [24]byte
	k := 0
	seg := s.text[t.gs[ga]:t.ge[gb-1]]
	for j := 0; j < len(seg); j++ {
		c := seg[j]
		if isDigit(c) {
			if k == len(buf) {
				return false
			}
			buf[k] = c
			k++
		} else if c == '(' && j+1 < len(seg) && seg[j+1] == '0' && (j+2 == len(seg) || seg[j+2] == ')') {
			j++ // "(0)"
		}
	}
	return s.emitE164(buf[:k], t.ge[ga]-t.gs[ga], start, end)
}

// emitE164 emits the digits d of a number written with a leading '+',
// whose first group has g0 digits, as e164 says.
func (s *scan) emitE164(d []byte, g0, start, end int) bool {
	cc := callingCode(d)
	if cc == 0 || g0 < cc || (g0 <= 3 && g0 != cc) {
		return false
	}
	if len(d) > cc && d[cc] == '0' {
		d = append(d[:cc], d[cc+1:]...)
	}
	if !validE164(d) {
		return false
	}
	s.emit(tPhone, start, end, High)
	return true
}

// ipv4 emits the four groups from ga, separated by dots, as an IPv4
// address if each is a decimal number from 0 to 255 written without
// leading zeros (with emitIPv4).
func (s *scan) ipv4(t *numTok, ga, start, end int) bool {
	if !s.b.on[tIPv4] {
		return false
	}
	var oct [4]int
	for k := range oct {
		v, ok := octet(s.text[t.gs[ga+k]:t.ge[ga+k]])
		if !ok {
			return false
		}
		oct[k] = v
	}
	s.emitIPv4(oct, start, end)
	return true
}

// octet reads digits as an octet of an IPv4 address: a decimal number
// from 0 to 255, written without leading zeros.
func octet(digits []byte) (int, bool) {
	if len(digits) == 0 || len(digits) > 3 || len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	v := 0
	for _, c := range digits {
		v = v*10 + int(c-'0')
	}
	return v, v <= 255
}

// emitIPv4 emits the address of octets oct from start to end. The
// unspecified, loopback and broadcast addresses are of low confidence;
// others medium.
func (s *scan) emitIPv4(oct [4]int, start, end int) {
	conf := Medium
	if oct[0] == 0 || oct[0] == 127 || oct == [4]int{255, 255, 255, 255} {
		conf = Low
	}
	s.emit(tIPv4, start, end, conf)
}

// lettersThenDigits handles two capitals at i followed by a digit: an
// IBAN ("GB82 WEST 1234 ...") or a compact UK National Insurance number
// ("QQ123456C"). It returns the end of what it emitted, or 0.
func (s *scan) lettersThenDigits(i int) int {
	if s.b.on[tIBAN] {
		if end := s.iban(i); end > 0 {
			return end
		}
	}
	if s.b.on[tNINO] {
		return s.ninoCompact(i)
	}
	return 0
}

// iban emits the IBAN that starts at i, written all together or in the
// print format (groups of four separated by single spaces), and returns
// its end. Text of the shape of an IBAN that fails its check is no number
// of any other type either: iban returns its end without emitting it. It
// returns 0 for text of another shape.
func (s *scan) iban(i int) int {
	text := s.text
	n := len(text)
	want := ibanLength(text[i], text[i+1])
	if want == 0 {
		return 0
	}
	var buf [maxIBAN]byte
	k, p := 0, i
	grouped := false
	for k < want {
		if p >= n {
			return 0
		}
		c := text[p]
		switch {
		case isUpper(c) || isDigit(c):
			if grouped && k%4 == 0 && text[p-1] != ' ' {
				return 0 // a group of more than four
			}
			buf[k] = c
			k++
			p++
		case c == ' ' && k%4 == 0 && (grouped || k == 4) && p+1 < n && isAlnum(text[p+1]):
			grouped = true
			p++
		default:
			return 0
		}
	}
	if p < n && isAlnum(text[p]) {
		return 0
	}
	if validIBAN(buf[:want]) {
		s.emit(tIBAN, i, p, High)
	}
	return p
}

// ninoCompact emits the National Insurance number "QQ123456C" at i and
// returns its end, or returns 0.
func (s *scan) ninoCompact(i int) int {
	text := s.text
	if i+9 > len(text) || !validNINOPrefix(text[i], text[i+1]) {
		return 0
	}
	for _, c := range text[i+2 : i+8] {
		if !isDigit(c) {
			return 0
		}
	}
	if c := text[i+8]; c < 'A' || c > 'D' || !s.boundaryAfter(i+9) {
		return 0
	}
	s.emit(tNINO, i, i+9, Medium)
	return i + 9
}

// ninoSpaced emits the National Insurance number "QQ 12 34 56 C" or
// "QQ 123456 C" at i and returns its end, or returns 0.
func (s *scan) ninoSpaced(i int) int {
	text := s.text
	if !validNINOPrefix(text[i], text[i+1]) {
		return 0
	}
	for _, form := range [...]string{"LL DD DD DD S", "LL DDDDDD S"} {
		end := i + len(form)
		if end > len(text) || !s.boundaryAfter(end) {
			continue
		}
		ok := true
		for k := 2; k < len(form) && ok; k++ {
			c := text[i+k]
			switch form[k] {
			case ' ':
				ok = c == ' '
			case 'D':
				ok = isDigit(c)
			case 'S':
				ok = 'A' <= c && c <= 'D'
			}
		}
		if ok {
			s.emit(tNINO, i, end, Medium)
			return end
		}
	}
	return 0
}
