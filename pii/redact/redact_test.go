package redact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

// The obvious values every correct scanner finds whole.
const (
	email = "jane.doe@example.com"
	phone = "+27 82 555 0199"
	card  = "4111 1111 1111 1111"
	ip    = "192.168.10.24"
)

// line holds one of each, in a sentence.
const line = "contact " + email + " or " + phone + ", paid with " + card + " from " + ip + "."

var testKey = bytes.Repeat([]byte("k"), redact.MinPseudonymKey)

func newRedactor(t testing.TB, opts *redact.Options) *redact.Redactor {
	t.Helper()
	r, err := redact.New(opts)
	require.NoError(t, err)
	return r
}

// every returns a Redactor of each strategy, by name.
func every(t testing.TB) map[string]*redact.Redactor {
	t.Helper()
	m := make(map[string]*redact.Redactor)
	for s := redact.Tag; s <= redact.Remove; s++ {
		m[s.String()] = newRedactor(t, &redact.Options{Default: s, PseudonymKey: testKey})
	}
	return m
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   *redact.Options
		fields []string // the fields the error names, in order
	}{
		{"nil is the defaults", nil, nil},
		{"zero is the defaults", &redact.Options{}, nil},
		{"every strategy", &redact.Options{
			Strategies:   map[detect.Type]redact.Strategy{detect.Email: redact.Pseudonym, detect.Card: redact.Mask, detect.IPv4: redact.Remove},
			PseudonymKey: testKey,
		}, nil},
		{"a key is not needed without pseudonyms", &redact.Options{Default: redact.Mask, PseudonymKey: []byte("short")}, nil},
		{"unknown default", &redact.Options{Default: 9}, []string{"Options.Default"}},
		{"unknown strategy", &redact.Options{Strategies: map[detect.Type]redact.Strategy{detect.Email: 4}},
			[]string{`Options.Strategies["email"]`}},
		{"pseudonym default without a key", &redact.Options{Default: redact.Pseudonym}, []string{"Options.PseudonymKey"}},
		{"pseudonym strategy with a short key", &redact.Options{
			Strategies:   map[detect.Type]redact.Strategy{detect.Phone: redact.Pseudonym},
			PseudonymKey: testKey[:31],
		}, []string{"Options.PseudonymKey"}},
		{"empty key names", &redact.Options{Keys: []string{"ssn", "", "--"}}, []string{"Options.Keys[1]", "Options.Keys[2]"}},
		{"every problem at once", &redact.Options{
			Default:    redact.Pseudonym,
			Strategies: map[detect.Type]redact.Strategy{"b": 7, "a": 8},
			Keys:       []string{" "},
		}, []string{`Options.Strategies["a"]`, `Options.Strategies["b"]`, "Options.PseudonymKey", "Options.Keys[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := redact.New(tc.opts)
			if tc.fields == nil {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			require.Error(t, err)
			assert.Nil(t, r)
			assert.True(t, errors.Is(err, dataward.ErrInvalid))
			var ve *dataward.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, "redact", ve.Package)
			var fields []string
			for _, p := range ve.Problems {
				fields = append(fields, p.Field)
			}
			assert.Equal(t, tc.fields, fields)
		})
	}
}

func TestStrategies(t *testing.T) {
	rs := every(t)
	for _, tc := range []struct {
		strategy string
		in, want string
	}{
		{"tag", email, "[EMAIL]"},
		{"tag", phone, "[PHONE]"},
		{"tag", card, "[CARD]"},
		{"tag", ip, "[IPV4]"},
		{"tag", line, "contact [EMAIL] or [PHONE], paid with [CARD] from [IPV4]."},
		{"mask", email, "[EMAIL:example.com]"},
		{"mask", "Jane.Doe@Example.COM", "[EMAIL:example.com]"},
		{"mask", phone, "+** ** *** **99"},
		{"mask", card, "**** **** **** 1111"},
		{"mask", "4111-1111-1111-1111", "****-****-****-1111"},
		{"mask", ip, "192.168.*.*"},
		{"mask", line, "contact [EMAIL:example.com] or +** ** *** **99, paid with **** **** **** 1111 from 192.168.*.*."},
		{"remove", line, "contact  or , paid with  from ."},
		{"tag", "", ""},
		{"tag", "nothing personal here", "nothing personal here"},
	} {
		t.Run(tc.strategy+"/"+tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, rs[tc.strategy].String(tc.in))
			assert.Equal(t, []byte(tc.want), rs[tc.strategy].Bytes([]byte(tc.in)))
		})
	}
}

func TestStrategyPerType(t *testing.T) {
	r := newRedactor(t, &redact.Options{
		Strategies: map[detect.Type]redact.Strategy{detect.Card: redact.Mask, detect.IPv4: redact.Remove},
	})
	assert.Equal(t, "contact [EMAIL] or [PHONE], paid with **** **** **** 1111 from .", r.String(line))
}

func TestPseudonym(t *testing.T) {
	r := newRedactor(t, &redact.Options{Default: redact.Pseudonym, PseudonymKey: testKey})
	other := newRedactor(t, &redact.Options{Default: redact.Pseudonym, PseudonymKey: bytes.Repeat([]byte("o"), 32)})

	p := r.String(email)
	assert.Regexp(t, `^\[EMAIL:[bcdfghjklmnpqrstvwxz]{12}\]$`, p)
	assert.NotContains(t, p, "jane")
	assert.Equal(t, p, r.String(email), "the same value and key give the same pseudonym")
	assert.Equal(t, p, newRedactor(t, &redact.Options{Default: redact.Pseudonym, PseudonymKey: testKey}).String(email),
		"another Redactor with the same key gives the same pseudonym")
	assert.NotEqual(t, p, other.String(email), "another key gives another pseudonym")
	assert.NotEqual(t, p, r.String("john.doe@example.com"), "another value gives another pseudonym")

	assert.Equal(t, p, r.String("Jane.Doe@EXAMPLE.com"), "e-mail addresses are compared without regard to case")
	assert.Equal(t, r.String(phone), r.String("+27825550199"), "phone numbers are compared by their digits")
	assert.Equal(t, r.String(card), r.String("4111-1111-1111-1111"), "card numbers are compared by their digits")

	got := r.String("from " + email + " to " + email + ", cc john.doe@example.com")
	assert.Equal(t, "from "+p+" to "+p+", cc "+r.String("john.doe@example.com"), got)
}

func TestCleanTextIsReturnedAsIs(t *testing.T) {
	r := newRedactor(t, nil)
	in := strings.Repeat("order 7731 shipped to the warehouse; ", 4)
	assert.Equal(t, in, r.String(in))
	b := []byte(in)
	out := r.Bytes(b)
	assert.Same(t, &b[0], &out[0], "Bytes returns clean input itself")
	if !raceEnabled { // the race detector allocates
		r.String(in) // warm the pools
		assert.Zero(t, testing.AllocsPerRun(100, func() { r.String(in) }), "String allocates for clean text")
	}
}

// TestResultHoldsNothingFound uses a detector that finds what a
// replacement joins together: removing each "ab" from "aaabbb" leaves a new
// "ab" until nothing is left.
func TestResultHoldsNothingFound(t *testing.T) {
	ab := detect.Func("ab", 2, func(dst []detect.Finding, text []byte) []detect.Finding {
		for i := 0; i+1 < len(text); i++ {
			if text[i] == 'a' && text[i+1] == 'b' {
				dst = append(dst, detect.Finding{Type: "ab", Start: i, End: i + 2, Confidence: detect.High})
				i++
			}
		}
		return dst
	})
	sc, err := detect.New(&detect.Options{Detectors: []detect.Detector{ab}})
	require.NoError(t, err)
	r := newRedactor(t, &redact.Options{Scanner: sc, Default: redact.Remove})
	assert.Equal(t, "[", r.String("[aaabbb"))

	// A detector that finds its own tags gets them removed in the end.
	x := detect.Func("x", 1, func(dst []detect.Finding, text []byte) []detect.Finding {
		for i, c := range text {
			if c == 'x' || c == 'X' {
				dst = append(dst, detect.Finding{Type: "x", Start: i, End: i + 1, Confidence: detect.High})
			}
		}
		return dst
	})
	sc, err = detect.New(&detect.Options{Detectors: []detect.Detector{x}})
	require.NoError(t, err)
	r = newRedactor(t, &redact.Options{Scanner: sc})
	out := r.String("a x b")
	assert.Empty(t, sc.ScanString(out), "in %q", out)
	assert.Equal(t, out, r.String(out))
}

// TestFindingAlone checks texts that are one finding and nothing else,
// which are redacted to a tag made once (or to nothing) when the scanner
// finds nothing in that tag, and as any other text when it does.
func TestFindingAlone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{email, "[EMAIL]"}, {phone, "[PHONE]"}, {card, "[CARD]"}, {ip, "[IPV4]"},
		{"GB82 WEST 1234 5698 7654 32", "[IBAN]"}, {"8001015009087", "[ZA_ID]"},
		{"2001:db8::8a2e:370:7334", "[IPV6]"}, {"AKIAIOSFODNN7EXAMPLE", "[API_KEY]"},
	} {
		assert.Equal(t, tc.want, newRedactor(t, nil).String(tc.in), tc.in)
		assert.Empty(t, newRedactor(t, &redact.Options{Default: redact.Remove}).String(tc.in), tc.in)
	}
	masked := newRedactor(t, &redact.Options{Default: redact.Mask})
	assert.Equal(t, "[EMAIL:example.com]", masked.String(email))

	// A detector that finds "[EMAIL]": the tag of an e-mail address
	// alone is replaced in turn.
	tags, err := detect.Pattern("tag", `\[EMAIL\]`, nil)
	require.NoError(t, err)
	// The built-in e-mail detector is off: a detector of the host's
	// finds e-mail addresses.
	at := detect.Func(detect.Email, 64, func(dst []detect.Finding, text []byte) []detect.Finding {
		if i := bytes.IndexByte(text, '@'); i >= 0 {
			dst = append(dst, detect.Finding{Type: detect.Email, Start: 0, End: len(text), Confidence: detect.High})
		}
		return dst
	})
	sc, err := detect.New(&detect.Options{Types: []detect.Type{detect.IPv4}, Detectors: []detect.Detector{tags, at}})
	require.NoError(t, err)
	r := newRedactor(t, &redact.Options{Scanner: sc, Strategies: map[detect.Type]redact.Strategy{"tag": redact.Remove}})
	assert.Equal(t, "", r.String(email))
	got := logOne(t, r, func(l *slog.Logger) { l.Info("m", "to", email) })
	assert.Equal(t, map[string]any{"msg": "m", "to": ""}, got)
}

func TestCustomType(t *testing.T) {
	cust, err := detect.Pattern("customer_number", `\bCUST-[0-9]{6}\b`, nil)
	require.NoError(t, err)
	sc, err := detect.New(&detect.Options{Detectors: []detect.Detector{cust}})
	require.NoError(t, err)
	in := "ticket from CUST-123456"
	for strategy, want := range map[redact.Strategy]string{
		redact.Tag:    "ticket from [CUSTOMER_NUMBER]",
		redact.Mask:   "ticket from C***",
		redact.Remove: "ticket from ",
	} {
		r := newRedactor(t, &redact.Options{Scanner: sc, Strategies: map[detect.Type]redact.Strategy{"customer_number": strategy}})
		assert.Equal(t, want, r.String(in), strategy.String())
	}
}

func TestReport(t *testing.T) {
	assert.Equal(t, "none", redact.Report{}.String())
	assert.Zero(t, redact.Report{}.Total())
	rep := redact.Report{Counts: map[detect.Type]int{detect.Phone: 2, detect.Card: 1, detect.Email: 3, detect.IPv4: 0}}
	assert.Equal(t, "card=1 email=3 phone=2", rep.String())
	assert.Equal(t, 6, rep.Total())
}

func TestStrategyString(t *testing.T) {
	for s, want := range map[redact.Strategy]string{
		redact.Tag: "tag", redact.Mask: "mask", redact.Pseudonym: "pseudonym", redact.Remove: "remove", 9: "Strategy(9)",
	} {
		assert.Equal(t, want, s.String())
	}
}

// TestConcurrent redacts from many goroutines at once; run with -race.
func TestConcurrent(t *testing.T) {
	r := newRedactor(t, &redact.Options{Default: redact.Pseudonym, PseudonymKey: testKey})
	want := r.String(line)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				assert.Equal(t, want, r.String(line))
			}
		})
	}
	wg.Wait()
}
