package detect_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii/detect"
)

// describe returns what s finds in text, as "type match confidence".
func describe(s *detect.Scanner, text string) []string {
	var got []string
	for _, f := range s.ScanString(text) {
		got = append(got, string(f.Type)+" "+text[f.Start:f.End]+" "+f.Confidence.String())
	}
	return got
}

// orderChecksum accepts order numbers whose digits sum to a multiple of 7.
func orderChecksum(m []byte) bool {
	sum := 0
	for _, c := range m {
		if '0' <= c && c <= '9' {
			sum += int(c - '0')
		}
	}
	return sum%7 == 0
}

func TestPatternWithValidator(t *testing.T) {
	d, err := detect.Pattern("order_number", `\bORD-\d{6}\b`, orderChecksum)
	require.NoError(t, err)
	assert.Equal(t, detect.Type("order_number"), d.Type())
	s, err := detect.New(&detect.Options{Detectors: []detect.Detector{d}})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"order_number ORD-000007 medium",
		"order_number ORD-100006 medium",
		"email a@example.com high",
	}, describe(s, "ORD-000007 ORD-000008 xORD-000070 ORD-100006 mail a@example.com"))
}

func TestPatternOptions(t *testing.T) {
	d, err := detect.Pattern("ticket", `T-\d+`, nil)
	require.NoError(t, err)
	scan := func(d detect.Detector, min detect.Confidence, text string) []detect.Finding {
		s, err := detect.New(&detect.Options{Types: []detect.Type{detect.Email}, MinConfidence: min, Detectors: []detect.Detector{d}})
		require.NoError(t, err)
		return s.ScanString(text)
	}
	assert.Len(t, scan(d, detect.High, "T-12"), 0, "medium by default")
	assert.Len(t, scan(d.WithConfidence(detect.High), detect.High, "T-12"), 1)
	assert.Len(t, scan(d.WithContext("Ticket"), detect.High, "ticket T-12"), 1, "context raises medium to high")
	assert.Len(t, scan(d.WithContext("ticket"), detect.High, "xticket T-12"), 0)
	assert.Len(t, scan(d, detect.Low, "T-"+strings.Repeat("1", 300)), 0, "longer than the default span of 256")
	assert.Len(t, scan(d.WithMaxSpan(400), detect.Low, "T-"+strings.Repeat("1", 300)), 1)
	assert.Equal(t, d.WithMaxSpan(5), d.WithMaxSpan(9).WithMaxSpan(5), "With methods return copies")
}

func TestPatternErrors(t *testing.T) {
	_, err := detect.Pattern("order_number", `ORD-(\d+`, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	var verr *dataward.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, `detect: invalid input: Pattern("order_number") does not compile: missing closing ): `+"`ORD-(\\d+`", err.Error())

	_, err = detect.Pattern("anything", `x*`, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), `Pattern("anything") matches the empty string`)

	_, err = detect.Pattern("", `x+`, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), `Pattern("") has no type`)

	_, err = detect.New(&detect.Options{Detectors: []detect.Detector{detect.Func("x", 10, nil)}})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), `Detectors[0] ("x") has no find function`)

	d, err := detect.Pattern("x", `x+`, nil)
	require.NoError(t, err)
	_, err = detect.New(&detect.Options{Detectors: []detect.Detector{d.WithConfidence(9).WithMaxSpan(-1)}})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), `Detectors[0] ("x") has a maximum span of -1`)
	assert.Contains(t, err.Error(), `Detectors[0] ("x") has confidence 9, want Low, Medium or High`)
}

func TestFunc(t *testing.T) {
	// Finds "#" followed by letters; also returns findings the scanner
	// must ignore: out of bounds, empty, too long.
	hashtags := detect.Func("hashtag", 16, func(dst []detect.Finding, text []byte) []detect.Finding {
		for i := 0; i < len(text); i++ {
			if text[i] != '#' {
				continue
			}
			j := i + 1
			for j < len(text) && 'a' <= text[j] && text[j] <= 'z' {
				j++
			}
			if j > i+1 {
				dst = append(dst, detect.Finding{Type: "ignored", Start: i, End: j})
			}
		}
		return append(dst,
			detect.Finding{Start: -1, End: 2}, detect.Finding{Start: 3, End: 3},
			detect.Finding{Start: 0, End: len(text) + 1}, detect.Finding{Start: 0, End: 17, Confidence: detect.High})
	})
	s, err := detect.New(&detect.Options{Detectors: []detect.Detector{hashtags}})
	require.NoError(t, err)
	assert.Equal(t, []string{"hashtag #go medium", "hashtag #privacy medium"}, describe(s, "#go and #privacy and #averyveryverylongtag"))
}

// A Func may ignore the slice it is given and return its own, or nil.
func TestFuncReturnsAnySlice(t *testing.T) {
	for name, find := range map[string]func([]detect.Finding, []byte) []detect.Finding{
		"nil":   func([]detect.Finding, []byte) []detect.Finding { return nil },
		"fresh": func([]detect.Finding, []byte) []detect.Finding { return []detect.Finding{{Start: 0, End: 2}} },
	} {
		s, err := detect.New(&detect.Options{Detectors: []detect.Detector{detect.Func("x", 8, find)}})
		require.NoError(t, err, name)
		fs := s.AppendScanString(make([]detect.Finding, 3, 10), "ab alice@example.com")
		require.Len(t, fs, 3+1+min(1, len(find(nil, nil))), name)
	}
}

// A custom finding that overlaps a built-in one competes with it: higher
// confidence wins, then the longer.
func TestCustomAndBuiltinOverlap(t *testing.T) {
	acct, err := detect.Pattern("account", `acct:\d{10}`, nil)
	require.NoError(t, err)
	text := "acct:0825551234"
	for _, tc := range []struct {
		conf detect.Confidence
		want detect.Type
	}{
		{detect.Low, detect.Type("account")}, // longer than the low phone number
		{detect.High, detect.Type("account")},
	} {
		s, err := detect.New(&detect.Options{Detectors: []detect.Detector{acct.WithConfidence(tc.conf)}})
		require.NoError(t, err)
		fs := s.ScanString(text)
		require.Len(t, fs, 1)
		assert.Equal(t, tc.want, fs[0].Type)
	}
	short, err := detect.Pattern("digits", `\d{10}`, nil)
	require.NoError(t, err)
	s, err := detect.New(&detect.Options{Detectors: []detect.Detector{short.WithConfidence(detect.Medium)}})
	require.NoError(t, err)
	fs := s.ScanString(text)
	require.Len(t, fs, 1)
	assert.Equal(t, detect.Type("digits"), fs[0].Type, "medium beats the low phone number of the same span")
}

// A custom detector sees the text in pieces of 64 KiB, with its maximum
// span on either side: a match across a piece boundary is found once.
func TestCustomAcrossPieces(t *testing.T) {
	d, err := detect.Pattern("marker", `MARK-\d{8}`, nil)
	require.NoError(t, err)
	s, err := detect.New(&detect.Options{Types: []detect.Type{detect.Email}, Detectors: []detect.Detector{d}})
	require.NoError(t, err)
	for _, at := range []int{64<<10 - 13, 64<<10 - 1, 64 << 10, 128<<10 - 5} {
		text := strings.Repeat(" ", at) + "MARK-12345678 " + strings.Repeat(" ", 1000)
		fs := s.ScanString(text)
		require.Len(t, fs, 1, "at %d", at)
		assert.Equal(t, at, fs[0].Start)
	}
}
