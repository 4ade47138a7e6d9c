package detect

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii/detect/internal/corpus"
)

// holdsOf returns what text holds, as builtinHolds counts it.
func holdsOf(text []byte) holds {
	h := holds{length: len(text)}
	for _, c := range text {
		switch {
		case isDigit(c):
			h.digits++
		case c == '.':
			h.bytes |= holdDot
		case c == '@':
			h.bytes |= holdAt
		case c == ':':
			h.bytes |= holdColon
		}
	}
	return h
}

func isASCII(text []byte) bool {
	for _, c := range text {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// shortestFindings are findings of each type at (or near) the bounds of
// builtinHolds: the fewest digits, the shortest text.
var shortestFindings = map[Type][]string{
	Email:          {"a@b.co"},
	Phone:          {"+30 123456", "082 555 0199", "0825550199", "(415) 555-0199"},
	Card:           {"500000000009", "378282246310005", "4111111111111111"},
	IBAN:           {"NO9386011117947", "NO93 8601 1117 947"},
	ZAID:           {"8001015009087"},
	IPv4:           {"1.2.3.4"},
	IPv6:           {"::1", "fe80::1"},
	USSSN:          {"123-45-6789"},
	UKNINO:         {"AB123456C", "AB 12 34 56 C"},
	APIKey:         {"AKIA" + strings.Repeat("A", 16)},
	JWT:            {"eyJhbGciOi.eyJ9."},
	PrivateKey:     {shortestPEM("PRIVATE KEY", minPEMBody)},
	URLCredentials: {"s://u:p@h"},
}

// TestHoldsAreTrue checks builtinHolds against what the matchers find:
// every finding of each type, in the labelled corpus, in log lines and
// at the bounds (shortestFindings), holds what its entry says. A bound
// set too high (too many digits, too long, a byte that a finding may lack)
// fails here.
func TestHoldsAreTrue(t *testing.T) {
	texts := [][]byte{corpus.Labelled(11, 13000).Text}
	texts = append(texts, corpus.Logs(12, 256<<10, 0.5).Text)
	// Which bounds a finding meets: of digits, and of length.
	tight := map[Type][2]bool{}
	for typ, xs := range shortestFindings {
		for _, x := range xs {
			fs := Default().ScanString(x)
			require.Len(t, fs, 1, "%q", x)
			require.Equal(t, Finding{Type: typ, Start: 0, End: len(x), Confidence: fs[0].Confidence}, fs[0], "%q", x)
			texts = append(texts, []byte(x))
		}
	}
	for i, typ := range builtinTypes {
		s, err := New(&Options{Types: []Type{typ}})
		require.NoError(t, err)
		want := builtinHolds[i]
		n := 0
		for _, text := range texts {
			for _, f := range s.Scan(text) {
				got := holdsOf(text[f.Start:f.End])
				require.GreaterOrEqual(t, got.digits, want.digits, "%s: %q", typ, text[f.Start:f.End])
				require.GreaterOrEqual(t, got.length, want.length, "%s: %q", typ, text[f.Start:f.End])
				require.Equal(t, want.bytes, got.bytes&want.bytes, "%s: %q", typ, text[f.Start:f.End])
				tt := tight[typ]
				tt[0] = tt[0] || got.digits == want.digits
				tt[1] = tt[1] || got.length == want.length
				tight[typ] = tt
				n++
			}
		}
		require.Greater(t, n, 2, "%s: found too few to check", typ)
	}
	// Each bound is met by a finding, but the length of a private key,
	// that of the shortest block the matcher reads whatever its label
	// (TestMinTextIsShortest), and the digits of an IBAN, its check digits
	// (no country's accounts are letters only).
	for i, typ := range builtinTypes {
		h := builtinHolds[i]
		if h.digits > 0 && typ != IBAN {
			require.True(t, tight[typ][0], "%s: no finding has %d digits", typ, h.digits)
		}
		if h.length > 0 && typ != PrivateKey {
			require.True(t, tight[typ][1], "%s: no finding is %d bytes long", typ, h.length)
		}
	}
}

// TestQuickCounts checks the quick check's arithmetic on eight bytes at
// once (shortWords, countShort) and holdSet against holdsOf, byte by
// byte, with every byte value at every position of texts of up to
// maxQuick bytes.
func TestQuickCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 4))
	alphabet := "ab1:.@9 -\x80\xff0/?"
	for n := range maxQuick + 1 {
		for range 8 {
			text := make([]byte, n)
			for k := range text {
				text[k] = alphabet[r.IntN(len(alphabet))]
			}
			for at := range n {
				for c := range 256 {
					text[at] = byte(c)
					w0, w1 := shortWords(text)
					require.Equal(t, isASCII(text), (w0|w1)&high == 0, "%q", text)
					if !isASCII(text) {
						continue // left to the loop
					}
					want := holdsOf(text)
					digits, marks := countShort(w0, w1)
					require.Equal(t, want.digits, digits, "%q", text)
					require.Equal(t, want.bytes, holdSet(w0, w1), "%q", text)
					if want.bytes != 0 {
						require.True(t, marks, "%q", text)
					}
				}
				text[at] = 'a'
			}
		}
	}
}

// TestQuickIsTheLoop checks that AppendScan, with its quick check, finds
// in short texts what the main loop finds, for scanners of every type
// alone and of some together: texts of fragments around the bounds, and
// every piece of up to maxQuick bytes of the shortest findings and of log
// lines. A quick check that settles a text in which the loop finds
// something fails here.
func TestQuickIsTheLoop(t *testing.T) {
	scanners := startScanners(t)
	for _, typ := range builtinTypes {
		s, err := New(&Options{Types: []Type{typ}})
		require.NoError(t, err)
		scanners[string(typ)] = s
	}
	r := rand.New(rand.NewPCG(8, 5))
	var texts [][]byte
	for range 50000 {
		var b []byte
		for len(b) < r.IntN(maxQuick+1) {
			b = append(b, startFragments[r.IntN(len(startFragments))]...)
		}
		texts = append(texts, b[:min(len(b), maxQuick)])
	}
	pieces := func(x []byte) {
		for i := range x {
			for j := i + 1; j <= min(len(x), i+maxQuick); j++ {
				texts = append(texts, x[i:j])
			}
		}
	}
	for _, xs := range shortestFindings {
		for _, x := range xs {
			pieces([]byte(" " + x + " "))
		}
	}
	for line := range bytes.Lines(corpus.Logs(13, 64<<10, 0.5).Text) {
		pieces(line)
	}
	for name, s := range scanners {
		for _, text := range texts {
			require.Equal(t, fullLoop(s, text), s.AppendScan(nil, text), "%s: %q", name, text)
		}
	}
}

// FuzzQuickIsTheLoop is TestQuickIsTheLoop on texts the fuzzer makes: for
// any text of up to maxQuick bytes, AppendScan finds what the main loop
// finds, with every type and with each type alone.
func FuzzQuickIsTheLoop(f *testing.F) {
	scanners := []*Scanner{Default()}
	for _, typ := range builtinTypes {
		s, err := New(&Options{Types: []Type{typ}})
		require.NoError(f, err)
		scanners = append(scanners, s)
	}
	for _, xs := range shortestFindings {
		for _, x := range xs {
			f.Add([]byte(x))
		}
	}
	f.Add([]byte("ord-7731"))
	f.Add([]byte("+27 82 555 0199"))
	f.Fuzz(func(t *testing.T, text []byte) {
		text = text[:min(len(text), maxQuick)]
		for _, s := range scanners {
			require.Equal(t, fullLoop(s, text), s.AppendScan(nil, text), "%v: %q", s.b.on, text)
		}
	})
}
