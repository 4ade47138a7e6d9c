package detect

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/dataward/dataward"
)

// Custom detector limits.
const (
	// DefaultPatternSpan is the maximum span of a [Pattern] detector's
	// findings unless [Detector.WithMaxSpan] sets another.
	DefaultPatternSpan = 256
	// MaxDetectorSpan is the largest maximum span a custom detector may
	// have.
	MaxDetectorSpan = 16 << 10
	// maxTypeLen is the longest custom type name.
	maxTypeLen = 64
)

// customBlock is the size of the pieces a custom detector is run on: the
// text is cut at every multiple of customBlock bytes from its start, and
// a detector sees each piece with up to its maximum span of text on either
// side. Findings are kept from the piece they start in. Cutting the same
// way in [Scanner.Scan] and in a [Stream] makes their results the same.
const customBlock = 64 << 10

// A Detector finds data of a host's own type, such as customer or order
// numbers, beside the built-in types. Make one with [Pattern] or [Func],
// adjust it with its With methods, and pass it in [Options.Detectors]. The
// zero Detector is not usable: [New] refuses it.
//
// A Detector is a value: the With methods return a changed copy.
type Detector struct {
	typ      Type
	re       *regexp.Regexp
	validate func(match []byte) bool
	find     func(dst []Finding, text []byte) []Finding
	maxSpan  int
	conf     Confidence
	context  []string
}

// Pattern returns a detector of type t whose findings are the matches of
// the regular expression expr (Go's RE2 syntax, which matches in time
// linear in the text) that validate, if it is not nil, accepts. validate
// receives the matched bytes, which it must not keep or change.
//
// Findings are of [Medium] confidence unless [Detector.WithConfidence]
// sets another, and at most [DefaultPatternSpan] bytes long unless
// [Detector.WithMaxSpan] sets another: a longer match is no finding. The
// text is searched in pieces of 64 KiB, each with up to the maximum span
// of text on either side, so a match that needs more context than that is
// not found.
//
// Pattern returns a [*dataward.ValidationError] (matched by
// [dataward.ErrInvalid]) naming the detector if t is empty or too long, or
// if expr does not compile or matches the empty string.
func Pattern(t Type, expr string, validate func(match []byte) bool) (Detector, error) {
	verr := &dataward.ValidationError{Package: "detect"}
	field := "Pattern(" + strconv.Quote(string(t)) + ")"
	checkType(verr, field, t)
	re, err := regexp.Compile(expr)
	switch {
	case err != nil:
		verr.Add(field, "does not compile: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	case re.Match(nil):
		verr.Add(field, "matches the empty string "+strconv.Quote(expr)+", so it would find something everywhere")
	}
	if err := verr.Err(); err != nil {
		return Detector{}, err
	}
	return Detector{typ: t, re: re, validate: validate, maxSpan: DefaultPatternSpan, conf: Medium}, nil
}

// Func returns a detector of type t whose findings are those that find
// appends to dst, for hand-written matchers that a regular expression
// cannot express. find must return findings in text (offsets from its
// start) no longer than maxSpan bytes; their Type is set to t, and a zero
// Confidence to [Medium]. Findings outside text, empty, or longer than
// maxSpan are ignored. find must not keep or change text, must be safe for
// concurrent use, and its findings should depend only on the text within
// maxSpan bytes of them.
//
// Like a [Pattern], find is called on pieces of 64 KiB with up to maxSpan
// bytes of text on either side, and a finding is kept from the piece it
// starts in. [New] refuses a Func detector with an empty type, a nil find,
// or a maxSpan outside 1 to [MaxDetectorSpan].
func Func(t Type, maxSpan int, find func(dst []Finding, text []byte) []Finding) Detector {
	return Detector{typ: t, find: find, maxSpan: maxSpan, conf: Medium}
}

// WithConfidence returns a copy of d whose findings are of confidence c
// (the default of a [Func] detector's findings that have none).
func (d Detector) WithConfidence(c Confidence) Detector {
	d.conf = c
	return d
}

// WithMaxSpan returns a copy of d whose findings are at most n bytes
// long, from 1 to [MaxDetectorSpan]. Longer matches are no findings.
func (d Detector) WithMaxSpan(n int) Detector {
	d.maxSpan = n
	return d
}

// WithContext returns a copy of d whose findings are raised by one
// confidence level when one of words (matched without regard to ASCII
// case, at the start of a word) stands in the 48 bytes before them on the
// same line, as the built-in types' context words do.
func (d Detector) WithContext(words ...string) Detector {
	d.context = make([]string, 0, len(words))
	for _, w := range words {
		if w = strings.ToLower(w); w != "" && len(w) <= maxContext {
			d.context = append(d.context, w)
		}
	}
	return d
}

// Type returns the type of d's findings.
func (d Detector) Type() Type { return d.typ }

func checkType(verr *dataward.ValidationError, field string, t Type) {
	switch {
	case t == "":
		verr.Add(field, "has no type")
	case len(t) > maxTypeLen:
		verr.Add(field, "has a type longer than "+strconv.Itoa(maxTypeLen)+" bytes")
	}
}

// check adds to verr what is wrong with d, the i-th of Options.Detectors.
func (d *Detector) check(verr *dataward.ValidationError, i int) {
	field := "Detectors[" + strconv.Itoa(i) + "]"
	if d.re == nil && d.find == nil {
		if d.typ == "" {
			verr.Add(field, "is not set: make it with Pattern or Func")
			return
		}
		verr.Add(field+" ("+strconv.Quote(string(d.typ))+")", "has no find function")
	}
	if d.typ != "" {
		field += " (" + strconv.Quote(string(d.typ)) + ")"
	}
	checkType(verr, field, d.typ)
	if d.maxSpan < 1 || d.maxSpan > MaxDetectorSpan {
		verr.Add(field, "has a maximum span of "+strconv.Itoa(d.maxSpan)+", want 1 to "+strconv.Itoa(MaxDetectorSpan))
	}
	if d.conf < Low || d.conf > High {
		verr.Add(field, "has confidence "+strconv.Itoa(int(d.conf))+", want Low, Medium or High")
	}
}

// lead is how much text before a piece d sees: its maximum span, and at
// least enough for its context words.
func (d *Detector) lead() int { return max(d.maxSpan, maxContext+8) }

// appendBlock appends the findings of d that start in the piece
// [blockStart, blockStart+customBlock) of the input. text holds the input
// from offset textOff on, from at least blockStart-d.lead() (or the start)
// to blockStart+customBlock+d.maxSpan (or the end, which is textOff +
// len(text) when final is true). Offsets are relative to text.
func (d *Detector) appendBlock(dst []Finding, text []byte, textOff, blockStart int64, minConf Confidence) []Finding {
	lo := max(0, blockStart-int64(d.lead())) - textOff
	hi := min(int64(len(text)), blockStart+customBlock+int64(d.maxSpan)-textOff)
	from, to := int(blockStart-textOff), int(min(int64(len(text)), blockStart+customBlock-textOff))
	piece := text[lo:hi]
	base := len(dst)
	if d.re != nil {
		for _, m := range d.re.FindAllIndex(piece, -1) {
			if d.validate == nil || d.validate(piece[m[0]:m[1]:m[1]]) {
				dst = append(dst, Finding{Start: m[0], End: m[1]})
			}
		}
	} else {
		// find may return any slice: take its findings whatever it did
		// with the one it was given. It is given none of dst, which would
		// then escape to the heap whatever the detectors (a host's function
		// may keep it), and a caller's array on the stack with it.
		dst = append(dst, d.find(nil, piece)...)
	}
	k := base
	for _, f := range dst[base:] {
		f.Start += int(lo)
		f.End += int(lo)
		if f.Start < from || f.Start >= to || f.End <= f.Start || f.End > int(hi) || f.End-f.Start > d.maxSpan {
			continue
		}
		f.Type = d.typ
		if f.Confidence < Low || f.Confidence > High || d.re != nil {
			f.Confidence = d.conf
		}
		if f.Confidence < High && len(d.context) > 0 && hasContext(text, f.Start, d.context) {
			f.Confidence++
		}
		if f.Confidence < minConf {
			continue
		}
		dst[k] = f
		k++
	}
	return dst[:k]
}
