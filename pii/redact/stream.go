package redact

import (
	"errors"
	"io"

	"github.com/dataward/dataward/pii/detect"
)

// Copy copies src to dst with every finding replaced, as
// [Redactor.String] does, and returns what it replaced. The input is read
// and scanned in segments by the scanner's [detect.Stream], so memory stays
// bounded however long src is, and data that the scanner finds is never
// split between two writes. It stops at the end of src or at the first
// error, which it returns as the reader or writer returned it; the Report
// then counts what was replaced until then.
func (r *Redactor) Copy(dst io.Writer, src io.Reader) (Report, error) {
	rep := Report{Counts: make(map[detect.Type]int)}
	sc := getScratch()
	defer putScratch(sc)
	st := r.scanner.NewStream(src)
	var out []byte
	for {
		seg, err := st.Next()
		if len(seg.Text) > 0 {
			chunk := seg.Text
			if len(seg.Findings) > 0 {
				sc.fs = append(sc.fs[:0], seg.Findings...)
				out = redact(r, out[:0], seg.Text, sc, rep.Counts)
				chunk = out
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return rep, werr
			}
		}
		if err == io.EOF {
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
	}
}

// Writer is an [io.WriteCloser] that redacts what is written to it and
// writes the result to another writer. Make one with [Redactor.NewWriter].
type Writer struct {
	pw   *io.PipeWriter
	done chan struct{}
	rep  Report
	err  error
}

// errWriterClosed is what a Write after the copy ended returns, if the
// copy ended without an error.
var errWriterClosed = errors.New("redact: write to a closed Writer")

// NewWriter returns a Writer that redacts what is written to it, as
// [Redactor.Copy] does, and writes the result to w. Data that the scanner
// finds is found even when it spans several calls of Write, so output
// lags input: the scanner's stream holds back what might be the start of a
// finding until more input, or Close, decides it.
//
// Close must be called, to flush what is held back and to end the
// goroutine that does the work; it returns the first error of w, if any.
// After an error of w, Write returns that error.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	pr, pw := io.Pipe()
	wr := &Writer{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(wr.done)
		wr.rep, wr.err = r.Copy(w, pr)
		if wr.err != nil {
			pr.CloseWithError(wr.err)
		} else {
			pr.CloseWithError(errWriterClosed)
		}
	}()
	return wr
}

// Write redacts p and writes the result to the underlying writer, holding
// back what it cannot decide yet. It blocks until the scanner has taken p.
func (w *Writer) Write(p []byte) (int, error) {
	return w.pw.Write(p)
}

// Close flushes what was held back, waits until it is written, and
// returns the first error of the underlying writer, if any. Closing a
// closed Writer returns the same error again.
func (w *Writer) Close() error {
	w.pw.Close()
	<-w.done
	return w.err
}

// Report returns what the Writer replaced. It is complete once Close has
// returned; before that it is empty.
func (w *Writer) Report() Report {
	select {
	case <-w.done:
		return w.rep
	default:
		return Report{}
	}
}
