package redact_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

// supportLog is a few lines of a support log, with the redacted form each
// line must take under Tag.
var supportLog = []struct{ in, want string }{
	{"2026-03-01T09:12:44Z INFO ticket 8812 opened by " + email + "\n", "2026-03-01T09:12:44Z INFO ticket 8812 opened by [EMAIL]\n"},
	{"2026-03-01T09:13:02Z INFO caller asked to be phoned back on " + phone + "\n", "2026-03-01T09:13:02Z INFO caller asked to be phoned back on [PHONE]\n"},
	{"2026-03-01T09:13:40Z WARN card " + card + " declined, request from " + ip + "\n", "2026-03-01T09:13:40Z WARN card [CARD] declined, request from [IPV4]\n"},
	{"2026-03-01T09:14:00Z INFO ticket 8812 closed\n", "2026-03-01T09:14:00Z INFO ticket 8812 closed\n"},
}

func joinLog(want bool) string {
	var b strings.Builder
	for _, l := range supportLog {
		if want {
			b.WriteString(l.want)
		} else {
			b.WriteString(l.in)
		}
	}
	return b.String()
}

func TestCopy(t *testing.T) {
	r := newRedactor(t, nil)
	in, want := joinLog(false), joinLog(true)
	for name, src := range map[string]io.Reader{
		"whole":            strings.NewReader(in),
		"a byte a read":    iotest.OneByteReader(strings.NewReader(in)),
		"half reads":       iotest.HalfReader(strings.NewReader(in)),
		"no final newline": strings.NewReader(strings.TrimSuffix(in, "\n")),
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			rep, err := r.Copy(&out, src)
			require.NoError(t, err)
			if name == "no final newline" {
				assert.Equal(t, strings.TrimSuffix(want, "\n"), out.String())
			} else {
				assert.Equal(t, want, out.String())
			}
			assert.Equal(t, map[detect.Type]int{detect.Email: 1, detect.Phone: 1, detect.Card: 1, detect.IPv4: 1}, rep.Counts)
		})
	}
}

func TestCopyLongInput(t *testing.T) {
	r := newRedactor(t, &redact.Options{Default: redact.Mask})
	in := strings.Repeat(joinLog(false), 5000) // about 1 MB
	var out bytes.Buffer
	rep, err := r.Copy(&out, strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, 4*5000, rep.Total())
	assert.Equal(t, r.String(in), out.String())
	assert.Empty(t, detect.Default().Scan(out.Bytes()))
}

func TestCopyEmpty(t *testing.T) {
	r := newRedactor(t, nil)
	var out bytes.Buffer
	rep, err := r.Copy(&out, strings.NewReader(""))
	require.NoError(t, err)
	assert.Zero(t, out.Len())
	assert.Zero(t, rep.Total())
}

var errBroken = errors.New("broken")

// failingWriter fails after n successful writes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errBroken
	}
	w.n--
	return len(p), nil
}

func TestCopyErrors(t *testing.T) {
	r := newRedactor(t, nil)
	_, err := r.Copy(io.Discard, iotest.ErrReader(errBroken))
	assert.ErrorIs(t, err, errBroken)

	_, err = r.Copy(io.Discard, io.MultiReader(strings.NewReader(joinLog(false)), iotest.ErrReader(errBroken)))
	assert.ErrorIs(t, err, errBroken)

	_, err = r.Copy(&failingWriter{}, strings.NewReader(joinLog(false)))
	assert.ErrorIs(t, err, errBroken)
}

func TestWriter(t *testing.T) {
	r := newRedactor(t, nil)
	in, want := joinLog(false), joinLog(true)
	for _, size := range []int{1, 3, 7, 64, len(in)} {
		var out bytes.Buffer
		w := r.NewWriter(&out)
		for rest := in; rest != ""; {
			n := min(size, len(rest))
			k, err := w.Write([]byte(rest[:n]))
			require.NoError(t, err)
			require.Equal(t, n, k)
			rest = rest[n:]
		}
		require.NoError(t, w.Close())
		assert.Equal(t, want, out.String(), "writes of %d bytes", size)
		assert.Equal(t, 4, w.Report().Total())
		assert.NoError(t, w.Close(), "a second Close")
		_, err := w.Write([]byte("x"))
		assert.Error(t, err, "a Write after Close")
	}
}

func TestWriterFlushesOnClose(t *testing.T) {
	r := newRedactor(t, nil)
	var out bytes.Buffer
	w := r.NewWriter(&out)
	_, err := io.WriteString(w, "to jane.doe@exa")
	require.NoError(t, err)
	_, err = io.WriteString(w, "mple.com")
	require.NoError(t, err)
	assert.Zero(t, w.Report().Total(), "the report before Close")
	require.NoError(t, w.Close())
	assert.Equal(t, "to [EMAIL]", out.String())
	assert.Equal(t, map[detect.Type]int{detect.Email: 1}, w.Report().Counts)
}

func TestWriterError(t *testing.T) {
	r := newRedactor(t, nil)
	w := r.NewWriter(&failingWriter{})
	// Write until the scanner's stream has passed something on, however
	// much it holds back.
	var err error
	for written := 0; written < 64<<20 && err == nil; written += len(line) + 1 {
		_, err = io.WriteString(w, line+"\n")
	}
	assert.ErrorIs(t, err, errBroken, "Write returns the error of the underlying writer")
	assert.ErrorIs(t, w.Close(), errBroken)
}
