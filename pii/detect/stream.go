package detect

import (
	"errors"
	"io"
	"slices"
)

// A Segment is a piece of a stream and the findings in it. The Texts of a
// stream's segments, one after the other, are exactly its input, and no
// finding crosses from one segment to the next.
type Segment struct {
	// Offset is where Text starts in the stream.
	Offset int64
	// Text is the piece of the stream. It is valid until the next call to
	// [Stream.Next].
	Text []byte
	// Findings are the findings in Text, with offsets into Text, as
	// [Scanner.Scan] returns them. The slice is valid until the next call
	// to [Stream.Next].
	Findings []Finding
}

// A Stream scans an [io.Reader] piece by piece, in memory bounded by the
// longest span of the scanner's detectors: a buffer of about 64 KiB for
// the built-in types alone, about 180 KiB with custom detectors (which see
// the text in pieces of 64 KiB). Its findings are those [Scanner.Scan] would return for the
// whole input, however the reader splits it: a match that crosses the
// boundary of two reads is found. Make one with [Scanner.NewStream]; a
// Stream is not safe for concurrent use.
type Stream struct {
	s   *Scanner
	r   io.Reader
	buf []byte // buf[:n] is the input from offset off on
	n   int
	off int64
	eof bool
	err error // the reader's error, reported after the text read before it

	st      scanState // where the built-in pass stands, relative to buf
	next    []int64   // for each custom detector, the start of its next piece
	cands   []Finding // candidates, relative to buf, not yet emitted or still needed
	emitted int       // buf[:emitted] has been returned
	out     []Finding
}

// NewStream returns a Stream over r.
func (s *Scanner) NewStream(r io.Reader) *Stream {
	return s.newStream(r, s.streamBuffer())
}

// newStream returns a Stream with a buffer of size bytes. Tests use
// small ones, down to a little more than s.retention(); fill grows one
// that is too small to make progress.
func (s *Scanner) newStream(r io.Reader, size int) *Stream {
	return &Stream{s: s, r: r, buf: make([]byte, size), next: make([]int64, len(s.custom))}
}

// retention is the most a stream keeps in its buffer of what it has read:
// text before the built-in pass for its matchers' look-behind and context
// words, the lookahead of its matchers, the spans of findings not yet
// decided, and a custom detector's current piece with its margins.
func (s *Scanner) retention() int {
	r := s.b.lookahead + maxBack + maxContext + 2*s.maxSpan
	for i := range s.custom {
		d := &s.custom[i]
		r = max(r, customBlock+d.maxSpan+d.lead()+2*s.maxSpan)
	}
	return r
}

// streamBuffer is the size of a stream's buffer.
func (s *Scanner) streamBuffer() int { return max(64<<10, 2*s.retention()+16<<10) }

// maxEmptyReads is how many times in a row a reader may return no bytes
// and no error before a Stream reports [io.ErrNoProgress].
const maxEmptyReads = 100

// Next returns the next segment of the stream, reading from it as needed
// (until its buffer is full or the input ends). After the last segment it
// returns io.EOF; if the reader failed, it returns the text read before
// the failure in segments, scanned as if the input ended there, and then
// the reader's error.
func (st *Stream) Next() (Segment, error) {
	for {
		if seg, ok := st.segment(); ok {
			return seg, nil
		}
		if st.eof {
			if st.err != nil {
				return Segment{}, st.err
			}
			return Segment{}, io.EOF
		}
		st.fill()
	}
}

// fill drops from the buffer what is no longer needed and reads until it
// is full or the input ends.
func (st *Stream) fill() {
	keep := st.emitted
	if st.s.b.any {
		keep = min(keep, st.st.pos-maxBack-maxContext)
	}
	for i := range st.s.custom {
		keep = min(keep, int(st.next[i]-st.off)-st.s.custom[i].lead())
	}
	if keep = max(keep, 0); keep > 0 {
		copy(st.buf, st.buf[keep:st.n])
		st.n -= keep
		st.off += int64(keep)
		st.emitted -= keep
		st.st.pos -= keep
		for i := range st.cands {
			st.cands[i].Start -= keep
			st.cands[i].End -= keep
		}
	}
	if st.n == len(st.buf) {
		// Cannot happen with the buffer streamBuffer sizes; growing is
		// safer than stalling.
		st.buf = slices.Grow(st.buf[:st.n], len(st.buf))[:2*len(st.buf)]
	}
	for empty := 0; st.n < len(st.buf); {
		m, err := st.r.Read(st.buf[st.n:])
		st.n += m
		if err != nil {
			st.eof = true
			if !errors.Is(err, io.EOF) {
				st.err = err
			}
			return
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyReads {
			st.eof, st.err = true, io.ErrNoProgress
			return
		}
	}
}

// segment runs the detectors over what has been read, and returns the
// next segment if any part of the buffer is decided.
func (st *Stream) segment() (Segment, bool) {
	s := st.s
	text := st.buf[:st.n]
	known := st.n
	if s.b.any {
		st.cands = s.b.run(st.cands, text, &st.st, st.eof)
		if !st.eof {
			known = min(known, st.st.pos-maxBack)
		}
	}
	end := st.off + int64(st.n)
	for i := range s.custom {
		d := &s.custom[i]
		for st.next[i] < end && (st.eof || st.next[i]+customBlock+int64(d.maxSpan) <= end) {
			st.cands = d.appendBlock(st.cands, text, st.off, st.next[i], s.minConf)
			st.next[i] += customBlock
		}
		if !st.eof {
			known = min(known, int(st.next[i]-st.off))
		}
	}
	cut := st.n
	if !st.eof {
		// A candidate is decided once every candidate that may overlap
		// it is known.
		cut = known - s.maxSpan
	}
	if cut <= st.emitted {
		return Segment{}, false
	}

	c := st.cands
	if !slices.IsSortedFunc(c, cmpCandidates) {
		slices.SortFunc(c, cmpCandidates)
	}
	c = slices.CompactFunc(c, func(a, b Finding) bool { return a == b })
	lo, _ := slices.BinarySearchFunc(c, st.emitted, func(f Finding, off int) int { return f.Start - off })
	hi, _ := slices.BinarySearchFunc(c, cut, func(f Finding, off int) int { return f.Start - off })
	markLosers(c, lo, hi, s.maxSpan)
	// A kept finding that crosses the cut goes to the next segment.
	for j := hi - 1; j >= lo; j-- {
		if c[j].Confidence&dropped == 0 {
			if c[j].End > cut {
				cut = c[j].Start
				hi = j
			}
			break
		}
	}
	if cut <= st.emitted {
		st.cands = c
		return Segment{}, false
	}
	st.out = st.out[:0]
	for _, f := range c[lo:hi] {
		if f.Confidence&dropped == 0 {
			f.Start -= st.emitted
			f.End -= st.emitted
			st.out = append(st.out, f)
		}
	}
	seg := Segment{Offset: st.off + int64(st.emitted), Text: text[st.emitted:cut:cut], Findings: st.out}
	st.emitted = cut
	// Keep the candidates that may still overlap one to come.
	drop, _ := slices.BinarySearchFunc(c, cut-s.maxSpan+1, func(f Finding, off int) int { return f.Start - off })
	st.cands = slices.Delete(c, 0, drop)
	return seg, true
}

// ScanReader scans r and calls fn with each finding, in order, with
// offsets from the start of the stream, as [Scanner.Scan] would find them
// in the whole input. It stops at the first error from fn or r, and
// returns it; it returns nil at the end of r.
func (s *Scanner) ScanReader(r io.Reader, fn func(Finding) error) error {
	st := s.NewStream(r)
	for {
		seg, err := st.Next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		for _, f := range seg.Findings {
			f.Start += int(seg.Offset)
			f.End += int(seg.Offset)
			if err := fn(f); err != nil {
				return err
			}
		}
	}
}
