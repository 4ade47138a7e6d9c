package detect_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii/detect"
)

func TestBadInput(t *testing.T) {
	s := detect.Default()
	assert.Empty(t, s.Scan(nil))
	assert.Empty(t, s.ScanString(""))

	// Invalid UTF-8 and NUL bytes around a value do not hide it.
	text := "\xff\xfe\x00 alice@example.com \xc3\x28\x00 4111 1111 1111 1111\x80"
	fs := s.ScanString(text)
	require.Len(t, fs, 2)
	assert.Equal(t, "alice@example.com", text[fs[0].Start:fs[0].End])
	assert.Equal(t, "4111 1111 1111 1111", text[fs[1].Start:fs[1].End])

	// Random binary data: no panic, findings in bounds.
	r := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 1<<20)
	for i := range bin {
		bin[i] = byte(r.IntN(256))
	}
	for _, f := range s.Scan(bin) {
		require.True(t, 0 <= f.Start && f.Start < f.End && f.End <= len(bin))
	}
}

// A 10 MiB line without a line break, with values at its start, in its
// middle and at its end, and the same line read as a stream.
func TestTenMiBLine(t *testing.T) {
	filler := strings.Repeat("abc123def ", (10<<20)/10/2)
	text := "alice@example.com " + filler + " 8001015009087 " + filler + " 10.0.0.1"
	fs := detect.Default().ScanString(text)
	require.Len(t, fs, 3)
	assert.Equal(t, []detect.Type{detect.Email, detect.ZAID, detect.IPv4}, []detect.Type{fs[0].Type, fs[1].Type, fs[2].Type})
	var streamed []detect.Finding
	require.NoError(t, detect.Default().ScanReader(strings.NewReader(text), func(f detect.Finding) error {
		streamed = append(streamed, f)
		return nil
	}))
	assert.Equal(t, fs, streamed)
}

// adversarial are inputs meant to make a matcher look at the same bytes
// again and again: runs that almost start a match, and matches that almost
// end.
var adversarial = map[string]string{
	"at signs":           "a@a@a@",
	"local parts":        strings.Repeat("a", 60) + "@",
	"domains":            "@" + strings.Repeat("a.", 120),
	"digits":             "1",
	"spaced digits":      "1 ",
	"dotted digits":      "1.",
	"dashed digits":      "1-",
	"colons":             ":",
	"hex and colons":     "1:",
	"double colons":      "a::",
	"dots":               ".",
	"dashes":             "-",
	"pem begin":          "-----BEGIN PRIVATE KEY-----" + strings.Repeat("A", 100),
	"pem without end":    "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("QUFB", 2000),
	"jwt-like":           "eyJhbGciOiJIUzI1NiJ9.",
	"key prefixes":       "ghp_xoxb-sk_live_glpat-",
	"aws":                "AKIA",
	"url credentials":    "https://a:",
	"url at signs":       "x://a:b@",
	"plus parentheses":   "+(1",
	"parentheses":        "(1",
	"iban starts":        "GB82 ",
	"nino starts":        "AB 12 34 ",
	"underscores":        "_",
	"words and digits":   "ab1",
	"spaced long groups": "1234 ",
}

// Scanning takes time linear in the input, adversarial input included:
// four times the input takes about four times as long. The bound is
// generous (eight times), as this is a timing test on a shared machine,
// and a case that exceeds it is measured again, up to three times: a
// quadratic matcher takes sixteen times as long every time. The findings
// go to a slice that has room for them, so that growing it and collecting
// garbage are not part of what is timed.
func TestScanIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test, skipped with -short; runs in go test without -short")
	}
	s := detect.Default()
	dst := make([]detect.Finding, 0, 1<<20)
	best := func(text []byte) time.Duration {
		d := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			dst = s.AppendScan(dst[:0], text)
			d = min(d, time.Since(start))
		}
		return d
	}
	for name, unit := range adversarial {
		small := bytes.Repeat([]byte(unit), (1<<20)/len(unit))
		large := bytes.Repeat([]byte(unit), (4<<20)/len(unit))
		var ts, tl time.Duration
		var ratio float64
		for attempt := 0; attempt < 3; attempt++ {
			ts, tl = best(small), best(large)
			ratio = float64(tl) / float64(max(ts, time.Microsecond))
			if ratio <= 8 || tl <= 20*time.Millisecond {
				break
			}
		}
		t.Logf("%-20s 1 MiB %8v  4 MiB %8v  ratio %.1f", name, ts.Round(time.Microsecond), tl.Round(time.Microsecond), ratio)
		if ratio > 8 && tl > 20*time.Millisecond {
			t.Errorf("%s: 4 MiB took %.1f times as long as 1 MiB", name, ratio)
		}
	}
}
