package detect

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// refE164 is e164 as it was written first, gathering the digits group by
// group (with append, which calls memmove): the reference of
// TestE164ReadsTheGroups.
func (s *scan) refE164(t *numTok, ga, gb, start, end int) bool {
	var buf [24]byte
	d := buf[:0]
	for g := ga; g < gb; g++ {
		if t.paren[g] && g > ga && t.ge[g]-t.gs[g] == 1 && s.text[t.gs[g]] == '0' {
			continue
		}
		if len(d)+t.ge[g]-t.gs[g] > len(buf) {
			return false
		}
		d = append(d, s.text[t.gs[g]:t.ge[g]]...)
	}
	return s.emitE164(d, t.ge[ga]-t.gs[ga], start, end)
}

// refClassifyToken is classifyToken without its shortcut for a token that
// starts with '+' (classify of the whole token, after shapeOf).
func (s *scan) refClassifyToken(t *numTok) {
	d := t.digits(0, t.n)
	if d < 7 && t.n != 4 || d > 19*maxChunks {
		return
	}
	if t.n == 1 && !t.plus && (d == 10 || d == 11) && s.text[t.gs[0]] != '0' {
		return
	}
	sh := new(shape)
	whole := s.shapeOf(t, 0, t.n, sh)
	if whole && s.classify(t, 0, t.n, sh) {
		return
	}
	if t.n < 2 || whole && t.n >= 3 && sh.oneSep() && cardLayout(sh) {
		return
	}
	s.classifyChunks(t, sh)
}

// TestE164ReadsTheGroups holds e164, which reads the digits of a run of
// groups from the text between them, and classifyToken's shortcut for a
// token that starts with '+', to their first forms: the same findings for
// random phone-like tokens, with parentheses, "(0)" and every separator,
// and for every run of their groups.
func TestE164ReadsTheGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 4))
	groups := []string{"0", "1", "7", "27", "44", "82", "555", "0199", "1234", "20", "7946", "0958", "(0)", "(0)82", "(0", "0)", "(01)", "(20)", "(555)", "123456789", "0000000000"}
	seps := []string{" ", "-", ".", ""}
	n := 0
	for range 40000 {
		var b strings.Builder
		b.WriteString([]string{"", "tel ", "x", "(", "a "}[r.IntN(5)])
		pre := b.Len()
		b.WriteByte('+')
		k := 1 + r.IntN(6)
		for g := range k {
			if g > 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			b.WriteString(groups[r.IntN(len(groups))])
		}
		b.WriteString([]string{"", " ", ".", "a", ")", " 5"}[r.IntN(6)])
		text := []byte(b.String())

		tok := new(numTok)
		fast := scan{b: Default().b, text: text}
		if _, ok, tooLong := fast.parseNum(pre, tok); !ok || tooLong {
			continue
		}
		slow := scan{b: Default().b, text: text}
		for ga := 0; ga < tok.n; ga++ {
			for gb := ga + 1; gb <= tok.n; gb++ {
				fast.n, slow.n = 0, 0
				got := fast.e164(tok, ga, gb, tok.start, tok.end)
				want := slow.refE164(tok, ga, gb, tok.start, tok.end)
				require.Equal(t, want, got, "%q, groups %d to %d", text, ga, gb)
				require.Equal(t, slow.found[:slow.n], fast.found[:fast.n], "%q", text)
			}
		}
		fast.n, slow.n = 0, 0
		fast.classifyToken(tok)
		slow.refClassifyToken(tok)
		require.Equal(t, slow.found[:slow.n], fast.found[:fast.n], "%q", text)
		n += fast.n
	}
	require.NotZero(t, n) // some were phone numbers
}
