package detect

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/dataward/dataward"
)

// Options configures a [Scanner]. The zero Options (or nil) looks for every
// built-in type and reports every finding.
type Options struct {
	// Types lists the built-in types to look for; nil or empty means all
	// of them. Detectors are always used.
	Types []Type
	// MinConfidence drops findings of lower confidence. Zero means [Low]:
	// every finding is reported.
	MinConfidence Confidence
	// Detectors are the host's own, made with [Pattern] or [Func].
	Detectors []Detector
}

// A Scanner finds personal data and secrets in text. It is immutable and
// safe for concurrent use: make one at start-up (or use [Default]) and
// share it.
type Scanner struct {
	b       *builtin
	custom  []Detector
	minConf Confidence
	// maxSpan is the longest finding of any of its detectors.
	maxSpan int
	// hasFunc is set if a detector is a [Func]; any, if a built-in type is
	// looked for (b.any, kept here to save a load on every call); quick,
	// if a built-in type is looked for and there are no detectors, so
	// that the quick check settles a short text alone.
	hasFunc, any, quick bool
}

// New returns a Scanner configured by opts; nil opts looks for every
// built-in type. It returns a [*dataward.ValidationError] (matched by
// [dataward.ErrInvalid]) listing every problem: an unknown type in
// Options.Types, a MinConfidence above [High], and each detector that is
// not usable, by its index and type.
func New(opts *Options) (*Scanner, error) {
	if opts == nil {
		opts = &Options{}
	}
	verr := &dataward.ValidationError{Package: "detect"}
	types := make([]bool, numBuiltin)
	if len(opts.Types) == 0 {
		for i := range types {
			types[i] = true
		}
	}
	for _, t := range opts.Types {
		i := slices.Index(builtinTypes[:], t)
		if i < 0 {
			verr.Add("Options.Types", strconv.Quote(string(t))+" is not a built-in type (want one of "+builtinNames()+"); give a detector of your own in Options.Detectors")
			continue
		}
		types[i] = true
	}
	minConf := opts.MinConfidence
	if minConf == 0 {
		minConf = Low
	}
	if minConf > High {
		verr.Add("Options.MinConfidence", strconv.Itoa(int(minConf))+" is not Low, Medium or High")
	}
	for i := range opts.Detectors {
		opts.Detectors[i].check(verr, i)
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	s := &Scanner{
		b:       newBuiltin(types, minConf),
		custom:  slices.Clone(opts.Detectors),
		minConf: minConf,
	}
	s.hasFunc, s.any = hasFunc(s.custom), s.b.any
	s.quick = s.any && len(s.custom) == 0
	s.maxSpan = s.b.maxSpan
	for _, d := range s.custom {
		s.maxSpan = max(s.maxSpan, d.maxSpan)
	}
	return s, nil
}

func builtinNames() string {
	names := make([]string, len(builtinTypes))
	for i, t := range builtinTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

var defaultScanner = sync.OnceValue(func() *Scanner {
	s, err := New(nil)
	if err != nil {
		panic(err) // cannot happen: the options are empty
	}
	return s
})

// Default returns the Scanner that looks for every built-in type and
// reports every finding. It is shared and safe for concurrent use.
func Default() *Scanner { return defaultScanner() }

// Scan returns the findings in text, sorted by Start and never
// overlapping: where candidates overlap, the one of higher confidence is
// kept, then the longer, then the earlier, and a candidate that any
// overlapping one beats is dropped. Scan accepts any bytes: invalid UTF-8,
// binary data and empty input find nothing there rather than fail.
func (s *Scanner) Scan(text []byte) []Finding { return s.AppendScan(nil, text) }

// ScanString is like [Scanner.Scan] for a string.
func (s *Scanner) ScanString(text string) []Finding { return s.AppendScanString(nil, text) }

// AppendScan appends the findings in text to dst, as [Scanner.Scan]
// returns them, and returns the extended slice. When nothing is found, or
// dst has room for what is, the scanner's built-in types allocate nothing;
// dst does not escape, so it may be a slice of an array on the caller's
// stack.
func (s *Scanner) AppendScan(dst []Finding, text []byte) []Finding {
	return s.scan(dst, text, false)
}

// scan is AppendScan, and AppendScanString if str is set: text is then a
// string's bytes, of which a [Func] detector is given a copy. It settles
// most short texts, such as the values of log records, by the quick check
// (see builtinHolds), in a small frame that holds nothing across a call,
// and leaves the others to appendScan.
func (s *Scanner) scan(dst []Finding, text []byte, str bool) []Finding {
	if n := len(text); n <= maxQuick && s.quick {
		if w0, w1 := shortWords(text); (w0|w1)&high == 0 { // else not ASCII: leave it to the loop
			digits, marks := countShort(w0, w1)
			var set uint8
			if marks {
				set = holdSet(w0, w1)
			}
			if digits < int(s.b.quick[quickIndex(set, n)]) {
				return dst
			}
		}
	}
	return s.appendScan(dst, text, str)
}

// appendScan is scan without the quick check.
func (s *Scanner) appendScan(dst []Finding, text []byte, str bool) []Finding {
	if len(text) == 0 {
		return dst
	}
	base := len(dst)
	if s.any {
		// Most short strings in logs hold no byte that triggers a
		// matcher, or are settled by the pre-pass: either way without
		// setting up the main loop.
		i := skipPlain(text)
		if i >= 8 && i == len(text)&^7 && i < len(text) {
			i = plainTail(text)
		}
		if i = s.b.nextTrigger(text, i); i < len(text) {
			if s.b.settles[text[i]] {
				i = s.b.start(text, i)
			}
			if i < len(text) {
				st := scanState{pos: i}
				dst = s.b.run(dst, text, &st, true)
			}
		}
	}
	if str && s.hasFunc {
		text = bytes.Clone(text) // a host's function gets bytes it may not change, but could
	}
	for i := range s.custom {
		d := &s.custom[i]
		for b := 0; b < len(text); b += customBlock {
			dst = d.appendBlock(dst, text, 0, int64(b), s.minConf)
		}
	}
	if len(dst)-base < 2 {
		return dst // nothing to sort or to choose between
	}
	return resolve(dst, base, s.maxSpan)
}

// AppendScanString is like [Scanner.AppendScan] for a string, which it
// reads in place, without copying it (unless the scanner has a [Func]
// detector, which is given a copy).
func (s *Scanner) AppendScanString(dst []Finding, text string) []Finding {
	return s.scan(dst, unsafe.Slice(unsafe.StringData(text), len(text)), true)
}

func hasFunc(ds []Detector) bool {
	for i := range ds {
		if ds[i].find != nil {
			return true
		}
	}
	return false
}

// dropped marks, in Confidence, a candidate that an overlapping one beats,
// while resolve decides.
const dropped Confidence = 0x80

// beats reports whether candidate a wins over b, which overlaps it: higher
// confidence, then longer, then earlier, then the type that sorts first.
// For distinct candidates exactly one beats the other.
func beats(a, b *Finding) bool {
	ac, bc := a.Confidence&^dropped, b.Confidence&^dropped
	if ac != bc {
		return ac > bc
	}
	if al, bl := a.End-a.Start, b.End-b.Start; al != bl {
		return al > bl
	}
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	return a.Type < b.Type
}

// cmpCandidates orders candidates by Start, then End, Type and Confidence,
// so that identical ones are next to each other.
func cmpCandidates(a, b Finding) int {
	switch {
	case a.Start != b.Start:
		return a.Start - b.Start
	case a.End != b.End:
		return a.End - b.End
	case a.Type != b.Type:
		return strings.Compare(string(a.Type), string(b.Type))
	}
	return int(a.Confidence) - int(b.Confidence)
}

// resolve sorts the candidates dst[base:], none longer than maxSpan, and
// keeps those that beat every candidate they overlap. The rule is local
// (whether a candidate stays depends only on the candidates within
// maxSpan of it), which lets a stream decide a part of its input without
// the rest; what stays never overlaps.
func resolve(dst []Finding, base, maxSpan int) []Finding {
	c := dst[base:]
	if !slices.IsSortedFunc(c, cmpCandidates) {
		slices.SortFunc(c, cmpCandidates)
	}
	overlap := false
	for i := 1; i < len(c); i++ {
		if c[i].Start < c[i-1].End {
			overlap = true
			break
		}
	}
	if !overlap {
		return dst
	}
	c = slices.CompactFunc(c, func(a, b Finding) bool { return a == b })
	markLosers(c, 0, len(c), maxSpan)
	k := 0
	for _, f := range c {
		if f.Confidence&dropped == 0 {
			c[k] = f
			k++
		}
	}
	return dst[:base+k]
}

// markLosers marks as dropped each of c[from:to] that an overlapping
// candidate in c beats. c is sorted by Start and holds every candidate
// within maxSpan of those.
func markLosers(c []Finding, from, to, maxSpan int) {
	for i := from; i < to; i++ {
		f := &c[i]
		lost := false
		for j := i - 1; j >= 0 && c[j].Start > f.Start-maxSpan && !lost; j-- {
			lost = c[j].End > f.Start && beats(&c[j], f)
		}
		for j := i + 1; j < len(c) && c[j].Start < f.End && !lost; j++ {
			lost = beats(&c[j], f)
		}
		if lost {
			f.Confidence |= dropped
		}
	}
}
