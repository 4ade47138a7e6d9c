package redact

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii/detect"
)

// A Strategy says what replaces a finding of a type. The zero value is
// [Tag].
type Strategy uint8

// The strategies. Their replacements are made so that a scanner finds
// nothing in them (no '@', few digits, nothing shaped like a number, key or
// address), and [Redactor.String] checks that it finds nothing in its
// result.
const (
	// Tag replaces a finding with its type in capitals and brackets:
	// "[EMAIL]", "[PHONE]", "[ZA_ID]". A type of a host's own naming, such
	// as "customer_number", becomes "[CUSTOMER_NUMBER]".
	Tag Strategy = iota

	// Mask keeps a part that helps a reader without identifying anyone:
	//
	//   - an e-mail address keeps its domain: "[EMAIL:example.com]";
	//   - a card number keeps its layout and last four digits, as
	//     [pii.MaskCard] does: "**** **** **** 1111";
	//   - a phone number keeps its layout and last two digits, as
	//     [pii.MaskPhone] does: "+** ** *** **99";
	//   - an IBAN, a South African ID number, a US SSN or a UK National
	//     Insurance number keeps its layout and last four letters or
	//     digits: "***-**-6789";
	//   - an IPv4 address keeps its first two octets, "192.168.*.*", and an
	//     IPv6 address its first group, "2001:*:*:*:*:*:*:*";
	//   - an API key with a well-known prefix keeps the prefix, as
	//     [pii.MaskSecret] does: "sk_live_****";
	//   - other secrets (JWTs, private keys, URLs with credentials) keep
	//     nothing and are tagged as by [Tag];
	//   - a type of a host's own naming keeps its first character, as
	//     [pii.Mask] does: "C***".
	//
	// A finding that does not have the layout its type expects is tagged
	// instead.
	Mask

	// Pseudonym replaces a finding with its type and a keyed hash of its
	// value: "[EMAIL:cmgqnwkmfjcg]". The same value under the same key
	// always gives the same pseudonym, so lines about one person can still
	// be matched up, but the value cannot be recovered from it without
	// the key, and not by trying likely values without it either. The hash
	// is HMAC-SHA256 under [Options.PseudonymKey], truncated to about 52 bits and
	// written with twenty consonants (no digits, which a scanner could take
	// for a phone or an ID number, and no vowels, so no words). Among a
	// million distinct values, the chance that two share a pseudonym is
	// about one in eight thousand.
	//
	// Obvious variants of a value share a pseudonym: an e-mail address is
	// compared without regard to case; a phone, card or ID number by its
	// digits alone ("+27 82 555 0199" and "+27825550199", but not the
	// national form "082 555 0199"); an IBAN or a UK National Insurance
	// number by its letters and digits, without regard to case; an IP
	// address in its canonical form. Other values are compared exactly.
	Pseudonym

	// Remove deletes a finding, leaving nothing in its place.
	Remove

	numStrategies
)

// String returns "tag", "mask", "pseudonym" or "remove".
func (s Strategy) String() string {
	switch s {
	case Tag:
		return "tag"
	case Mask:
		return "mask"
	case Pseudonym:
		return "pseudonym"
	case Remove:
		return "remove"
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}

// MinPseudonymKey is the shortest [Options.PseudonymKey], in bytes.
const MinPseudonymKey = 32

// Options configures a [Redactor]. A nil *Options is the same as a zero
// one: the default scanner, every type tagged.
type Options struct {
	// Scanner finds what to redact. nil means [detect.Default].
	Scanner *detect.Scanner

	// Strategies chooses the strategy of each type; a type that is not in
	// the map gets Default. The map is copied by New.
	Strategies map[detect.Type]Strategy

	// Default is the strategy of the types not in Strategies. The zero
	// value is Tag.
	Default Strategy

	// PseudonymKey is the HMAC-SHA256 key of Pseudonym. It is required,
	// at least MinPseudonymKey random bytes, when Default or any of
	// Strategies is Pseudonym, and ignored otherwise. Keep it as secret as
	// a password: whoever holds it can tell whether a pseudonym stands for
	// a value they guess. Changing it changes every pseudonym. New copies
	// it.
	PseudonymKey []byte

	// Keys are names, in addition to the built-in ones, of slog attributes
	// and struct fields whose values are always replaced by "[REDACTED]",
	// whatever they hold; see [Redactor.Handler] for how names are
	// matched.
	Keys []string
}

// A Redactor finds personal data and secrets in text, log records and
// structs, and replaces them by the strategy of their type. Make one with
// [New]. A Redactor is safe for concurrent use.
type Redactor struct {
	scanner    *detect.Scanner
	strategies map[detect.Type]Strategy
	def        Strategy
	keys       keyMatcher
	alone      aloneTags
	macs       sync.Pool // of hash.Hash, HMAC-SHA256 under the pseudonym key
	plans      plans     // of Struct
}

// New returns a Redactor configured by opts; nil opts means defaults.
// Returns a [*dataward.ValidationError] (matched by [dataward.ErrInvalid])
// naming every bad field of opts: an unknown strategy, a missing or short
// PseudonymKey where one is needed, an empty or unusable name in Keys.
func New(opts *Options) (*Redactor, error) {
	if opts == nil {
		opts = &Options{}
	}
	ve := &dataward.ValidationError{Package: "redact"}
	pseudonyms := opts.Default == Pseudonym
	if opts.Default >= numStrategies {
		ve.Add("Options.Default", "is not a Strategy")
	}
	for _, t := range slices.Sorted(maps.Keys(opts.Strategies)) {
		switch s := opts.Strategies[t]; {
		case s >= numStrategies:
			ve.Add("Options.Strategies["+strconv.Quote(string(t))+"]", "is not a Strategy")
		case s == Pseudonym:
			pseudonyms = true
		}
	}
	if pseudonyms && len(opts.PseudonymKey) < MinPseudonymKey {
		ve.Add("Options.PseudonymKey", fmt.Sprintf("must hold at least %d bytes when a strategy is Pseudonym", MinPseudonymKey))
	}
	keys, problems := newKeyMatcher(opts.Keys)
	ve.Problems = append(ve.Problems, problems...)
	if err := ve.Err(); err != nil {
		return nil, err
	}
	r := &Redactor{
		scanner:    opts.Scanner,
		strategies: maps.Clone(opts.Strategies),
		def:        opts.Default,
		keys:       keys,
	}
	if r.scanner == nil {
		r.scanner = detect.Default()
	}
	r.alone = newAloneTags(r)
	r.keys.finds = func(key string) bool {
		var local [1]detect.Finding
		return len(r.scanner.AppendScanString(local[:0], key)) > 0
	}
	if pseudonyms {
		key := bytes.Clone(opts.PseudonymKey)
		r.macs.New = func() any { return hmac.New(sha256.New, key) }
	}
	return r, nil
}

// String returns s with every finding replaced. It returns s itself, and
// allocates nothing, when the scanner finds nothing in s, and allocates
// nothing either when s is one finding of a built-in type whose strategy
// is Tag or Remove, and nothing else.
//
// The result holds nothing that the scanner finds: a replacement that
// joins the text around it into something the scanner finds again (a
// masked card number's last digits and the digits that follow it, say) is
// replaced in turn, so redacting the result again changes nothing.
func (r *Redactor) String(s string) string {
	sc := getScratch()
	defer putScratch(sc)
	out, _ := r.redactString(s, sc)
	return out
}

// Bytes returns b with every finding replaced, in a new slice; it returns
// b itself when the scanner finds nothing in b. It redacts as
// [Redactor.String] does.
func (r *Redactor) Bytes(b []byte) []byte {
	sc := getScratch()
	defer putScratch(sc)
	if sc.fs = r.scanner.AppendScan(sc.fs[:0], b); len(sc.fs) == 0 {
		return b
	}
	return redact(r, nil, b, sc, nil)
}

// redactString returns s redacted and whether anything was replaced.
func (r *Redactor) redactString(s string, sc *scratch) (string, bool) {
	if s == "" {
		return s, false
	}
	if sc.fs = r.scanner.AppendScanString(sc.fs[:0], s); len(sc.fs) == 0 {
		return s, false
	}
	if t, ok := r.alone.of(s, sc.fs); ok {
		return t, true
	}
	return sc.string(redact(r, sc.buf[:0], s, sc, nil)), true
}

// builtinTypes are the types of package detect's built-in detectors.
var builtinTypes = [...]detect.Type{
	detect.Email, detect.Phone, detect.Card, detect.IBAN, detect.ZAID, detect.IPv4, detect.IPv6,
	detect.USSSN, detect.UKNINO, detect.APIKey, detect.JWT, detect.PrivateKey, detect.URLCredentials,
}

// builtinIndex returns the index of t in builtinTypes, or -1.
func builtinIndex(t detect.Type) int {
	switch t {
	case detect.Email:
		return 0
	case detect.Phone:
		return 1
	case detect.Card:
		return 2
	case detect.IBAN:
		return 3
	case detect.ZAID:
		return 4
	case detect.IPv4:
		return 5
	case detect.IPv6:
		return 6
	case detect.USSSN:
		return 7
	case detect.UKNINO:
		return 8
	case detect.APIKey:
		return 9
	case detect.JWT:
		return 10
	case detect.PrivateKey:
		return 11
	case detect.URLCredentials:
		return 12
	}
	return -1
}

// aloneTags are the redacted forms of a text that is one finding of a
// built-in type and nothing else (an attribute that holds an e-mail
// address, say) whose strategy is Tag or Remove: "[EMAIL]" or "", made
// once, by New. Such a text is redacted to the string here without
// replacing, scanning again or allocating. A type whose tag the scanner
// finds something in (a detector of the host's may) has none, and is
// redacted as any other text.
type aloneTags struct {
	s  [len(builtinTypes)]string
	ok [len(builtinTypes)]bool
}

func newAloneTags(r *Redactor) aloneTags {
	var a aloneTags
	for i, t := range builtinTypes {
		switch r.strategy(t) {
		case Tag:
			tag := string(appendTag(nil, t))
			a.s[i], a.ok[i] = tag, len(r.scanner.ScanString(tag)) == 0
		case Remove:
			a.ok[i] = true // "": nothing to find
		}
	}
	return a
}

// of returns what text, whose findings are fs, is redacted to, if it is
// one finding of a type in a alone.
func (a *aloneTags) of(text string, fs []detect.Finding) (string, bool) {
	if len(fs) != 1 || fs[0].Start != 0 || fs[0].End != len(text) {
		return "", false
	}
	if i := builtinIndex(fs[0].Type); i >= 0 && a.ok[i] {
		return a.s[i], true
	}
	return "", false
}

// The passes of redact: after maxPasses passes by strategy, what the scanner
// still finds is removed, for at most as many passes more; after that the
// whole text is replaced.
const maxPasses = 4

// redacted is what replaces a value that must be hidden whole.
const redacted = "[REDACTED]"

// redact appends text to dst with the findings sc.fs replaced, then scans
// what it appended and replaces anything found, until the scanner finds
// nothing in it. counts, if not nil, counts the findings replaced. dst may
// be sc.buf; sc.fs is overwritten.
func redact[T string | []byte](r *Redactor, dst []byte, text T, sc *scratch, counts map[detect.Type]int) []byte {
	start := len(dst)
	dst = replace(r, dst, text, sc.fs, counts, false)
	for pass := 1; ; pass++ {
		if sc.fs = r.scanner.AppendScan(sc.fs[:0], dst[start:]); len(sc.fs) == 0 {
			return dst
		}
		if pass == 2*maxPasses {
			// Only a detector that finds its own replacements gets here.
			return append(dst[:start], redacted...)
		}
		again := bytes.Clone(dst[start:])
		dst = replace(r, dst[:start], again, sc.fs, counts, pass >= maxPasses)
	}
}

// replace appends text to dst with the findings fs replaced by their
// strategies, or removed if remove is set. Findings out of order or out of
// range are passed over (the next pass of redact finds what they should
// have).
func replace[T string | []byte](r *Redactor, dst []byte, text T, fs []detect.Finding, counts map[detect.Type]int, remove bool) []byte {
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End > len(text) || f.Start >= f.End {
			continue
		}
		dst = append(dst, text[last:f.Start]...)
		if !remove {
			dst = r.appendReplacement(dst, f.Type, string(text[f.Start:f.End]))
		}
		if counts != nil {
			counts[f.Type]++
		}
		last = f.End
	}
	return append(dst, text[last:]...)
}

// strategy returns the strategy of t.
func (r *Redactor) strategy(t detect.Type) Strategy {
	if s, ok := r.strategies[t]; ok {
		return s
	}
	return r.def
}

// appendReplacement appends what replaces the value v of type t.
func (r *Redactor) appendReplacement(dst []byte, t detect.Type, v string) []byte {
	switch r.strategy(t) {
	case Mask:
		return appendMask(dst, t, v)
	case Pseudonym:
		return r.appendPseudonym(dst, t, v)
	case Remove:
		return dst
	}
	return appendTag(dst, t)
}

// maxLabel is the longest label of a tag, in bytes.
const maxLabel = 32

// appendLabel appends the label of t: its name in capital ASCII letters,
// digits and '_', at most maxLabel bytes, or "PII" for an empty name.
func appendLabel(dst []byte, t detect.Type) []byte {
	if t == "" {
		return append(dst, "PII"...)
	}
	for i := 0; i < len(t) && i < maxLabel; i++ {
		c := t[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendTag appends "[LABEL]".
func appendTag(dst []byte, t detect.Type) []byte {
	dst = append(dst, '[')
	dst = appendLabel(dst, t)
	return append(dst, ']')
}

// pseudonymAlphabet writes pseudonyms: twenty consonants.
const pseudonymAlphabet = "bcdfghjklmnpqrstvwxz"

// pseudonymLen is the length of a pseudonym's hash: 12 letters of 20 carry
// 51.9 bits.
const pseudonymLen = 12

// appendPseudonym appends "[LABEL:hash]" for the value v of type t.
func (r *Redactor) appendPseudonym(dst []byte, t detect.Type, v string) []byte {
	mac := r.macs.Get().(hash.Hash)
	mac.Reset()
	var buf [64]byte
	b := append(buf[:0], t...)
	b = append(b, 0)
	b = appendNormal(b, t, v)
	mac.Write(b)
	sum := mac.Sum(buf[:0])
	r.macs.Put(mac)

	var n uint64
	for _, c := range sum[:8] {
		n = n<<8 | uint64(c)
	}
	dst = append(dst, '[')
	dst = appendLabel(dst, t)
	dst = append(dst, ':')
	for range pseudonymLen {
		dst = append(dst, pseudonymAlphabet[n%uint64(len(pseudonymAlphabet))])
		n /= uint64(len(pseudonymAlphabet))
	}
	return append(dst, ']')
}

// Report counts what a redaction replaced.
type Report struct {
	// Counts is the number of findings replaced, by type.
	Counts map[detect.Type]int
}

// Total returns the number of findings replaced, of every type.
func (rep Report) Total() int {
	n := 0
	for _, c := range rep.Counts {
		n += c
	}
	return n
}

// String returns the counts in order of type, such as
// "card=1 email=3 phone=2", or "none".
func (rep Report) String() string {
	var b strings.Builder
	for _, t := range slices.Sorted(maps.Keys(rep.Counts)) {
		if rep.Counts[t] == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", t, rep.Counts[t])
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// scratch is the working space of a redaction, pooled.
type scratch struct {
	fs  []detect.Finding
	buf []byte
	// text holds the redacted strings of a log record until they are made
	// strings together.
	text []byte
	// js receives what jsonEncoder writes: a value as encoding/json
	// renders it (see Handler.anyValue).
	js  bytes.Buffer
	enc *json.Encoder
}

// jsonEncoder returns an encoder that writes to sc.js, as slog's JSON
// handler encodes a value: without escaping HTML. Kept with sc, it
// allocates nothing once warm, where json.Marshal allocates its result.
func (sc *scratch) jsonEncoder() *json.Encoder {
	if sc.enc == nil {
		sc.enc = json.NewEncoder(&sc.js)
		sc.enc.SetEscapeHTML(false)
	}
	sc.js.Reset()
	return sc.enc
}

// string returns b, which was appended to sc.buf[:0], as a string, and
// keeps its memory for the next use.
func (sc *scratch) string(b []byte) string {
	s := string(b)
	sc.buf = b[:0]
	return s
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{fs: make([]detect.Finding, 0, 16)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// Above these capacities, scratch space is dropped rather than pooled.
const (
	maxPooledFindings = 1024
	maxPooledBuf      = 64 << 10
)

func putScratch(sc *scratch) {
	if cap(sc.fs) <= maxPooledFindings && cap(sc.buf) <= maxPooledBuf && cap(sc.text) <= maxPooledBuf && sc.js.Cap() <= maxPooledBuf {
		scratchPool.Put(sc)
	}
}
