package detect

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii/detect/internal/corpus"
)

// smallBuffer is a stream buffer just large enough for the built-in
// types, so that tests cross buffer boundaries often.
func smallBuffer(s *Scanner) int { return s.retention() + 3<<10 }

// streamAll reads st to the end and returns its findings with offsets from
// the start of the stream, checking on the way that the segments tile the
// input and that no finding leaves its segment.
func streamAll(t testing.TB, st *Stream, input []byte) []Finding {
	t.Helper()
	var all []Finding
	var text []byte
	for {
		seg, err := st.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.NotEmpty(t, seg.Text, "empty segment")
		require.Equal(t, int64(len(text)), seg.Offset, "segments must follow each other")
		text = append(text, seg.Text...)
		for _, f := range seg.Findings {
			require.True(t, 0 <= f.Start && f.Start < f.End && f.End <= len(seg.Text), "finding %v outside its segment of %d bytes", f, len(seg.Text))
			f.Start += int(seg.Offset)
			f.End += int(seg.Offset)
			all = append(all, f)
		}
	}
	require.True(t, bytes.Equal(input, text), "the segments' texts are not the input")
	return all
}

// chunkReader returns the input in reads of random sizes from 1 to max.
type chunkReader struct {
	r   *rand.Rand
	b   []byte
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.b), 1+c.r.IntN(c.max))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// streamInput is log lines with every type, and long PEM blocks and JWTs
// placed so that many cross the boundaries of small buffers.
func streamInput() []byte {
	c := corpus.Labelled(7, 3000)
	return c.Text
}

func TestStreamEqualsScanWhateverTheChunking(t *testing.T) {
	input := streamInput()
	s := Default()
	want := s.Scan(input)
	require.NotEmpty(t, want)
	readers := map[string]func() io.Reader{
		"OneByteReader": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(input)) },
		"HalfReader":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(input)) },
		"DataErrReader": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(input)) },
		"random chunks": func() io.Reader { return &chunkReader{r: rand.New(rand.NewPCG(1, 2)), b: input, max: 9000} },
		"whole":         func() io.Reader { return bytes.NewReader(input) },
		"tiny chunks":   func() io.Reader { return &chunkReader{r: rand.New(rand.NewPCG(3, 4)), b: input, max: 7} },
	}
	for name, r := range readers {
		for _, size := range []int{smallBuffer(s), smallBuffer(s) + 4099, s.streamBuffer()} {
			got := streamAll(t, s.newStream(r(), size), input)
			require.Equal(t, want, got, "%s, buffer of %d bytes", name, size)
		}
	}
	// And through the public API.
	var got []Finding
	require.NoError(t, s.ScanReader(iotest.HalfReader(bytes.NewReader(input)), func(f Finding) error {
		got = append(got, f)
		return nil
	}))
	require.Equal(t, want, got)
}

// Findings as long as a type allows cross buffer boundaries: a stream
// of private keys and long JWTs, each just under its maximum span, at
// every offset relative to the buffer.
func TestStreamFindsMaximumSpansAcrossBoundaries(t *testing.T) {
	s := Default()
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat(strings.Repeat("A", 63)+"\n", (maxPEM-70)/64) + "-----END RSA PRIVATE KEY-----"
	require.LessOrEqual(t, len(pem), maxPEM)
	require.Greater(t, len(pem), maxPEM-100)
	var b bytes.Buffer
	for i := 0; i < 12; i++ {
		b.WriteString(strings.Repeat("x ", i*331))
		b.WriteString(pem)
		b.WriteString(" and ")
	}
	input := b.Bytes()
	want := s.Scan(input)
	require.Len(t, want, 12)
	for _, f := range want {
		require.Equal(t, PrivateKey, f.Type)
		require.Equal(t, len(pem), f.End-f.Start)
	}
	got := streamAll(t, s.newStream(iotest.HalfReader(bytes.NewReader(input)), smallBuffer(s)), input)
	require.Equal(t, want, got)
}

func TestStreamCustomDetectorsAcrossPieces(t *testing.T) {
	cust, err := Pattern("customer_number", `CUST-\d{6,}`, nil)
	require.NoError(t, err)
	long := Func("long_run", 2000, func(dst []Finding, text []byte) []Finding {
		// Runs of 'q', at least 1000 long: found only from where they start.
		for i := 0; i < len(text); {
			if text[i] != 'q' || i > 0 && text[i-1] == 'q' {
				i++
				continue
			}
			j := i
			for j < len(text) && text[j] == 'q' {
				j++
			}
			if j-i >= 1000 {
				dst = append(dst, Finding{Start: i, End: j, Confidence: High})
			}
			i = j
		}
		return dst
	})
	s, err := New(&Options{Detectors: []Detector{cust.WithMaxSpan(40), long}})
	require.NoError(t, err)
	var b bytes.Buffer
	r := rand.New(rand.NewPCG(5, 6))
	for b.Len() < 5*customBlock {
		switch r.IntN(4) {
		case 0:
			b.WriteString(" CUST-" + strings.Repeat("7", 6+r.IntN(20)))
		case 1:
			b.WriteString(" " + strings.Repeat("q", 1000+r.IntN(900)))
		default:
			b.WriteString(" alice@example.com 082 555 1234 filler text ")
		}
	}
	input := b.Bytes()
	want := s.Scan(input)
	var types = map[Type]int{}
	for _, f := range want {
		types[f.Type]++
	}
	require.Positive(t, types["customer_number"])
	require.Positive(t, types["long_run"])
	for _, size := range []int{smallBuffer(s), s.streamBuffer()} {
		got := streamAll(t, s.newStream(&chunkReader{r: rand.New(rand.NewPCG(7, 8)), b: input, max: 5000}, size), input)
		require.Equal(t, want, got, "buffer of %d bytes", size)
	}
}

func TestStreamEmptyInputAndErrors(t *testing.T) {
	s := Default()
	seg, err := s.NewStream(strings.NewReader("")).Next()
	require.Equal(t, io.EOF, err)
	require.Empty(t, seg.Text)

	// The text read before a failure is returned, then the error.
	boom := errors.New("boom")
	st := s.NewStream(io.MultiReader(strings.NewReader("mail alice@example.com"), iotest.ErrReader(boom)))
	seg, err = st.Next()
	require.NoError(t, err)
	require.Equal(t, "mail alice@example.com", string(seg.Text))
	require.Len(t, seg.Findings, 1)
	_, err = st.Next()
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, s.ScanReader(iotest.ErrReader(boom), func(Finding) error { return nil }), boom)

	// fn's error stops ScanReader.
	stop := errors.New("stop")
	calls := 0
	err = s.ScanReader(strings.NewReader("a@example.com b@example.com"), func(Finding) error { calls++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

// A reader that returns nothing forever is reported, not waited on.
func TestStreamReaderWithoutProgress(t *testing.T) {
	_, err := Default().NewStream(emptyReader{}).Next()
	require.ErrorIs(t, err, io.ErrNoProgress)
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A stream's buffer does not grow, whatever the input: long lines,
// long findings and adversarial runs included.
func TestStreamMemoryIsBounded(t *testing.T) {
	s := Default()
	inputs := map[string][]byte{
		"log lines": streamInput(),
		"one line":  bytes.Repeat([]byte("abc123 4111111111111111 "), 100000),
		"digits":    bytes.Repeat([]byte("1"), 1<<20),
		"pem heads": bytes.Repeat([]byte("-----BEGIN PRIVATE KEY-----\n"+strings.Repeat("QUFB", 100)), 1000),
	}
	for name, input := range inputs {
		st := s.NewStream(bytes.NewReader(input))
		size := len(st.buf)
		streamAll(t, st, input)
		require.Equal(t, size, len(st.buf), name)
	}
}
