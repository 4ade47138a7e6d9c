package detect

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii/detect/internal/corpus"
)

// fullLoop is what AppendScan found before the pre-pass: the main loop
// over the whole text, from its first byte.
func fullLoop(s *Scanner, text []byte) []Finding {
	var st scanState
	dst := s.b.run(nil, text, &st, true)
	if len(dst) < 2 {
		return dst
	}
	return resolve(dst, 0, s.maxSpan)
}

// startScanners are scanners whose pre-pass differs: every type, and the
// types that set minText alone or in pairs.
func startScanners(t *testing.T) map[string]*Scanner {
	t.Helper()
	m := map[string]*Scanner{"all": Default()}
	for _, types := range [][]Type{{APIKey}, {PrivateKey}, {JWT}, {PrivateKey, JWT}, {APIKey, Phone}, {Card, IPv4, UKNINO}} {
		s, err := New(&Options{Types: types})
		require.NoError(t, err)
		name := ""
		for _, ty := range types {
			name += string(ty) + "+"
		}
		m[name] = s
	}
	return m
}

// startFragments make up texts around the thresholds of the pre-pass: key
// prefixes, bodies, JWT and PEM parts, digits and separators.
var startFragments = []string{
	"ghp_", "github_pat_", "glpat-", "sk_live_", "rk_test_", "xoxb-", "npm_", "sk-ant-", "sk-proj-", "sk-",
	"AKIA", "ASIA", "AIza", "eyJhbGciOi", "eyJ9", "eyJ", ".", "..", "-----BEGIN ", "-----END ", "CERTIFICATE",
	"PRIVATE KEY", "-----", "A", "B", "Z", "z", "K", "S", "J", "a", "q", "x", "0123456789", "1", "42", "7731",
	"1234567", "-", "_", "__", "--", "@", "+", "(", ")", ":", "://", " ", "  ", "\n", "ord-", "cust-",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnop", "GB", "QQ 12 34 56 C", "jane@example.com", "10.0.0.1",
	"+27 82 555 0199", "4111 1111 1111 1111", "::1", "fe80::1", "082-555-0199", "4111-1111-1111-1111", "123-45-6789",
	"078-05-1120", "8001015009087", "800101 5009 087", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432",
	"(021) 555 0199", "+1 (555) 010-0199", "192.168.1.1", "0", "5", "0199", "555", "021", "2026-01-20T10:00:00Z",
	"12:30", "12.4ms", "AB123456C", "QQ 12 34 56 C", "2001:db8::1", "[IPV4]", "IPV4", "V4", "x.V4", "GB", "B8",
}

// TestStartIsTheLoop checks that the pre-pass changes nothing: AppendScan
// finds what the main loop finds over the whole text, for texts made of
// the fragments around every threshold, every prefix of them, and lines
// of the benchmark's log.
func TestStartIsTheLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	var texts [][]byte
	for range 20000 {
		var b []byte
		for len(b) < 2+r.IntN(90) {
			b = append(b, startFragments[r.IntN(len(startFragments))]...)
		}
		texts = append(texts, b)
	}
	// Every shortest match of a gated matcher, cut at each length, and
	// with a byte around it.
	for _, f := range keyFormats {
		k := f.prefix + strings.Repeat("a", f.min)
		if f.body == bodyUpperDigit {
			k = f.prefix + strings.Repeat("A", f.min)
		}
		for _, x := range []string{k, k + "a", " " + k, k[:len(k)-1], k + " "} {
			for n := 1; n <= len(x); n++ {
				texts = append(texts, []byte(x[:n]), []byte(x[len(x)-n:]))
			}
		}
	}
	for _, x := range []string{"eyJhbGciOi.eyJ9.", "eyJhbGciOi.eyJ9.sig", shortestPEM("A", minPEMBody),
		shortestPEM("PRIVATE KEY", minPEMBody), "ord-7731", "cust-4821", "x86 12:30 2026-01-20T10:00:00Z 12.4ms"} {
		for n := 1; n <= len(x); n++ {
			texts = append(texts, []byte(x[:n]), []byte(x[len(x)-n:]))
		}
	}
	// Numbers joined by every separator that may continue them.
	nums := []string{"0", "12", "021", "555", "0199", "7731", "1234567", "12345678", "123456789", "4111", "082",
		"(021)", "+27", "+1", "QQ", "AB12", "GB82", "x86"}
	for _, a := range nums {
		for _, sep := range []string{"", " ", "-", ".", "(", ")", " (", ") ", "  ", ":"} {
			for _, b := range nums {
				for _, c := range []string{"", " 555 0199", "-555-0199", ".0.1"} {
					texts = append(texts, []byte(a+sep+b+c))
				}
			}
		}
	}
	for line := range bytes.Lines(corpus.Logs(3, 256<<10, 0.2).Text) {
		texts = append(texts, line)
	}
	for name, s := range startScanners(t) {
		for _, text := range texts {
			want := fullLoop(s, text)
			got := s.AppendScan(nil, text)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %q: AppendScan found %v, the loop from the start %v", name, text, got, want)
			}
		}
	}
}

// shortestPEM is a PEM block with label and a body of n base64 bytes.
func shortestPEM(label string, n int) string {
	return "-----BEGIN " + label + "-----" + strings.Repeat("Q", n) + "-----END " + label + "-----"
}

// TestMinTextIsShortest checks each threshold of the pre-pass against the
// matchers: for every byte it gates, a text of exactly that length holds
// a match that the byte's matcher finds, and no match of a gated matcher
// is shorter, since one byte less than the shortest key of each format,
// JWT or PEM block is not a match.
func TestMinTextIsShortest(t *testing.T) {
	s := Default()
	b := s.b
	tight := map[byte]bool{}
	gated := func(c byte, n int) {
		t.Helper()
		require.NotZero(t, b.minText[c], "%q is not gated", c)
		require.GreaterOrEqual(t, n, int(b.minText[c]), "a match of %d bytes through %q, under its threshold", n, c)
		if n == int(b.minText[c]) {
			tight[c] = true
		}
	}
	for _, f := range keyFormats {
		body := "a"
		if f.body == bodyUpperDigit {
			body = "A"
		}
		k := f.prefix + strings.Repeat(body, f.min)
		require.Equal(t, []Finding{{Type: APIKey, Start: 0, End: len(k), Confidence: High}}, s.ScanString(k), "%q", k)
		require.Empty(t, s.ScanString(k[:len(k)-1]), "%q", k[:len(k)-1])
		for _, c := range []byte("-_KSz") {
			if strings.IndexByte(f.prefix, c) >= 0 {
				gated(c, len(k))
			}
		}
	}

	jwt := "eyJhbGciOi.eyJ9." // {"alg": and {
	require.Len(t, jwt, minJWTText)
	require.Equal(t, []Finding{{Type: JWT, Start: 0, End: len(jwt), Confidence: High}}, s.ScanString(jwt))
	gated('J', len(jwt))
	for _, short := range []string{"eyJhbGciO.eyJ9.", "eyJhbGciOi.eyJ.", "eyJhbGciOi.eyJ9"} {
		require.Empty(t, s.ScanString(short), "%q", short)
	}

	// The pem matcher reads (and steps over) a block of minPEMText bytes,
	// and none shorter.
	pem := shortestPEM("A", minPEMBody)
	require.Len(t, pem, minPEMText)
	sc := scan{b: b, text: []byte(pem)}
	require.Equal(t, len(pem), sc.pem(0))
	for _, short := range []string{shortestPEM("A", minPEMBody-1), shortestPEM("", minPEMBody)} {
		sc = scan{b: b, text: []byte(short)}
		require.Zero(t, sc.pem(0), "%q", short)
	}
	gated('-', len(pem))

	for _, c := range []byte("-_KSzJ") {
		require.True(t, tight[c], "no match through %q is as short as its threshold %d", c, b.minText[c])
	}
	// Nothing else is gated.
	for c := range 256 {
		if !strings.ContainsRune("-_KSzJ", rune(c)) {
			require.Zero(t, b.minText[c], "%q", c)
		}
	}
}

// TestDottedQuadIsParsed checks number's shortcut for four groups of
// digits joined by dots against the general path (parseNum and
// classifyToken): the same findings and the same end.
func TestDottedQuadIsParsed(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	groups := []string{"0", "1", "9", "10", "01", "00", "99", "100", "192", "255", "256", "300", "999", "0255", "1234", "12345"}
	before := []string{"", " ", "a", "-", "#", "+", "x.", "ip ", "(", "1."}
	after := []string{"", " ", ".", ".a", "a", "@", "-1", " 5", ":80", "/24", "-", ")", " (1"}
	n := 0
	for range 50000 {
		var b strings.Builder
		pre := before[r.IntN(len(before))]
		b.WriteString(pre)
		for k := range 4 {
			if k > 0 {
				b.WriteString([]string{".", ".", ".", "-"}[r.IntN(4)])
			}
			b.WriteString(groups[r.IntN(len(groups))])
		}
		b.WriteString(after[r.IntN(len(after))])
		text := []byte(b.String())
		i := len(pre)
		fast := scan{b: Default().b, text: text}
		end, _ := fast.number(i)
		slow := scan{b: Default().b, text: text}
		tok := new(numTok)
		want, ok, tooLong := slow.parseNum(i, tok)
		if ok && !tooLong && slow.numBoundaries(tok) {
			slow.classifyToken(tok)
		}
		require.Equal(t, want, end, "%q: end", text)
		require.Equal(t, slow.found[:slow.n], fast.found[:fast.n], "%q", text)
		n += fast.n
	}
	require.NotZero(t, n) // some were addresses
}

// TestSkipPlain checks skipPlain and plainTail against its definition, byte by byte, on
// every byte value at every position of texts of up to 24 bytes.
func TestSkipPlain(t *testing.T) {
	plain := func(c byte) bool { return 'a' <= c && c <= 'y' || c == ' ' }
	r := rand.New(rand.NewPCG(8, 3))
	for n := range 25 {
		for range 10 {
			text := make([]byte, n)
			for k := range text {
				text[k] = "abcxyz qrs"[r.IntN(10)]
			}
			for at := range n {
				for c := range 256 {
					text[at] = byte(c)
					want := 0
					for want < n && plain(text[want]) {
						want++
					}
					got := skipPlain(text)
					if got >= 8 && got == n&^7 && got < n { // as appendScan does
						got = plainTail(text)
					}
					// They stop at the first byte that is not plain, or at
					// 0 in a text of fewer than eight bytes.
					if n >= 8 {
						require.Equal(t, want, got, "%q", text)
					} else {
						require.Zero(t, got, "%q", text)
					}
				}
				text[at] = 'a'
			}
		}
	}
}
