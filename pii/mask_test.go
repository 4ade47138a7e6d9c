package pii_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
)

type maskCase struct {
	name string
	in   string
	want string
}

func runMaskCases(t *testing.T, mask func(string) string, cases []maskCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, mask(tc.in))
		})
	}
}

// longInput is a very long input, to check that masks neither choke on it
// nor echo its length.
var longInput = strings.Repeat("x", 1<<20)

func TestMask(t *testing.T) {
	runMaskCases(t, pii.Mask, []maskCase{
		{"empty", "", ""},
		{"one rune is masked whole", "A", "***"},
		{"one multi-byte rune is masked whole", "李", "***"},
		{"two runes keep the first", "Al", "A***"},
		{"name", "Alice Smith", "A***"},
		{"multi-byte first rune is kept whole", "Émile Zola", "É***"},
		{"CJK", "李小龙", "李***"},
		{"emoji", "🙂 smile", "🙂***"},
		{"invalid UTF-8 first byte", "\xffAlice", "***"},
		{"invalid UTF-8 throughout", "\xff\xfe\xfd", "***"},
		{"leading space is not kept", " Alice", "***"},
		{"leading control character is not kept", "\nAlice", "***"},
		{"very long input has a fixed-width mask", longInput, "x***"},
	})
}

func TestMaskEmail(t *testing.T) {
	runMaskCases(t, pii.MaskEmail, []maskCase{
		{"empty", "", ""},
		{"long local part keeps first and last", "alice.smith@example.com", "a***h@example.com"},
		{"six runes keep first and last", "alices@example.com", "a***s@example.com"},
		{"five runes keep the first", "alice@example.com", "a***@example.com"},
		{"three runes keep the first", "bob@example.com", "b***@example.com"},
		{"two runes are masked whole", "al@example.com", "***@example.com"},
		{"one rune is masked whole", "a@example.com", "***@example.com"},
		{"unicode local part", "josé.garcía@correo.es", "j***a@correo.es"},
		{"unicode first and last runes", "émilie@exämple.de", "é***e@exämple.de"},
		{"internationalised domain", "李小龙@例子.中国", "李***@例子.中国"},
		{"invalid UTF-8 in the kept runes", "\xffalice.smith@example.com", "****h@example.com"},
		{"invalid UTF-8 in the masked runes", "al\xffce.smith@example.com", "a***h@example.com"},
		{"space as a kept rune", " alice.smith@example.com", "****h@example.com"},
		{"multiple @ splits at the last", "a@b@example.com", "a***@example.com"},
		{"quoted local part with @", `"alice@home"@example.com`, `"***"@example.com`},
		{"no @ is masked generically", "alice.smith", "a***"},
		{"empty local part", "@example.com", "@***"},
		{"empty domain", "alice.smith@", "a***"},
		{"domain with a space", "alice@exa mple.com", "a***"},
		{"domain with a newline", "alice@example.com\nINFO forged", "a***"},
		{"domain with invalid UTF-8", "alice@ex\xffample.com", "a***"},
		{"domain too long", "alice@" + strings.Repeat("a", 254), "a***"},
		{"very long local part", longInput + "@example.com", "x***x@example.com"},
	})
}

func TestMaskPhone(t *testing.T) {
	runMaskCases(t, pii.MaskPhone, []maskCase{
		{"empty", "", ""},
		{"international", "+27 82 555 1234", "+** ** *** **34"},
		{"national", "082 555 1234", "*** *** **34"},
		{"parentheses and dash", "(021) 555-0199", "(***) ***-**99"},
		{"dots and slash", "021.555/0199", "***.***/**99"},
		{"digits only", "0825551234", "********34"},
		{"seven digits keep two", "5550199", "*****99"},
		{"six digits are masked whole", "555019", "******"},
		{"one digit", "5", "*"},
		{"other scripts' digits", "٠٨٢٥٥٥١٢٣٤", "********٣٤"},
		{"no digit", "+ ()", "***"},
		{"letters", "call me", "***"},
		{"extension", "082 555 1234 ext 5", "***"},
		{"invalid UTF-8", "082\xff5551234", "***"},
		{"newline", "0825551234\n", "***"},
		{"longer than 32 runes", strings.Repeat("1", 33), "***"},
		{"very long input", longInput, "***"},
	})
}

func TestMaskCard(t *testing.T) {
	runMaskCases(t, pii.MaskCard, []maskCase{
		{"empty", "", ""},
		{"spaces", "4111 1111 1111 1111", "**** **** **** 1111"},
		{"dashes", "4111-1111-1111-1234", "****-****-****-1234"},
		{"digits only", "4111111111111234", "************1234"},
		{"amex layout", "3782 822463 10005", "**** ****** *0005"},
		{"nineteen digits", "6011000990139424123", "***************4123"},
		{"twelve digits keep four", "123456789012", "********9012"},
		{"eleven digits are masked whole", "12345678901", "***********"},
		{"four digits are masked whole", "1234", "****"},
		{"no digit", " - ", "****"},
		{"twenty digits are not a card", "41111111111111111111", "****"},
		{"other characters", "4111 1111 1111 1111 exp 12/27", "****"},
		{"other scripts' digits", "٤١١١١١١١١١١١١١١١", "****"},
		{"invalid UTF-8", "4111\xff1111 1111 1111", "****"},
		{"longer than 40 runes", strings.Repeat(" ", 30) + "4111111111111111", "****"},
		{"very long input", longInput, "****"},
	})
}

func TestMaskSecret(t *testing.T) {
	runMaskCases(t, pii.MaskSecret, []maskCase{
		{"empty", "", ""},
		{"stripe live key", "sk_live_51HxYzAbCdEfGhIjKl", "sk_live_****"},
		{"stripe test key", "pk_test_TYooMQauvdEDq54NiTphI7jx", "pk_test_****"},
		{"github token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_****"},
		{"slack token", "xoxb-123456789012-abcdefghij", "xoxb-****"},
		{"prefix capped at 8 bytes", "github_pat_11ABCDEFG0123456789", "github_****"},
		{"no prefix shows four runes", "AKIAIOSFODNN7EXAMPLE", "AKIA****"},
		{"random token with early underscore", "Xy9_kL2-abcdefgh", "****"},
		{"leading separator is not a prefix", "_abcdefghijklmnop", "****"},
		{"twelve runes", "abcdefghijkl", "abcd****"},
		{"eleven runes show nothing", "sk_live_abc", "****"},
		{"short", "hunter2", "****"},
		{"one rune", "x", "****"},
		{"unicode", "密码密码密码密码密码密码", "****"},
		{"invalid UTF-8", strings.Repeat("\xff", 16), "****"},
		{"very long input", longInput, "xxxx****"},
	})
}

func TestMaskKind(t *testing.T) {
	inputs := []string{"", "alice.smith@example.com", "+27 82 555 1234", "4111 1111 1111 1111", "sk_live_51HxYzAbCdEfGh", "Alice"}
	kinds := []struct {
		kind pii.MaskKind
		mask func(string) string
	}{
		{pii.MaskKindEmail, pii.MaskEmail},
		{pii.MaskKindPhone, pii.MaskPhone},
		{pii.MaskKindCard, pii.MaskCard},
		{pii.MaskKindSecret, pii.MaskSecret},
		{pii.MaskKindText, pii.Mask},
		{"", pii.Mask},
	}
	for _, k := range kinds {
		t.Run(string(k.kind), func(t *testing.T) {
			for _, in := range inputs {
				assert.Equal(t, k.mask(in), k.kind.Mask(in), "input %q", in)
			}
		})
	}
	t.Run("unknown kind masks everything", func(t *testing.T) {
		for _, in := range inputs[1:] {
			assert.Equal(t, "***", pii.MaskKind("bogus").Mask(in))
		}
		assert.Equal(t, "", pii.MaskKind("bogus").Mask(""))
	})
}

func TestParseMaskKind(t *testing.T) {
	for _, s := range []string{"email", "phone", "card", "secret", "text"} {
		k, err := pii.ParseMaskKind(s)
		require.NoError(t, err)
		assert.Equal(t, pii.MaskKind(s), k)
	}
	for _, s := range []string{"", "Email", " email", "name", strings.Repeat("z", 100)} {
		k, err := pii.ParseMaskKind(s)
		require.Error(t, err, "%q", s)
		assert.Empty(t, k)
		assert.True(t, errors.Is(err, dataward.ErrInvalid))
		var verr *dataward.ValidationError
		require.True(t, errors.As(err, &verr))
		assert.Equal(t, "pii", verr.Package)
		assert.True(t, strings.HasPrefix(err.Error(), "pii: invalid input: mask kind "), err.Error())
		assert.Less(t, len(err.Error()), 120, "a long kind is not echoed whole")
	}
}

// FuzzMask checks that no mask function panics, that every result is valid
// UTF-8 free of control characters, that the fixed-width masks do not grow
// with their input, and that MaskCard never shows more than the last four
// digits of its input.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"", "a", "alice.smith@example.com", "a@b@c", "@", "@@", "+27 82 555 1234",
		"4111 1111 1111 1111", "4111-1111-1111-1111-111", "sk_live_51HxYzAbCdEfGh",
		"\xff\xfe", "李小龙@例子.中国", "٤١١١١١١١١١١١١١١١", "12345678901234567890",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		outs := map[string]string{
			"Mask":       pii.Mask(s),
			"MaskEmail":  pii.MaskEmail(s),
			"MaskPhone":  pii.MaskPhone(s),
			"MaskCard":   pii.MaskCard(s),
			"MaskSecret": pii.MaskSecret(s),
			"bogus kind": pii.MaskKind("bogus").Mask(s),
		}
		for name, out := range outs {
			if !utf8.ValidString(out) {
				t.Errorf("%s(%q) = %q: not valid UTF-8", name, s, out)
			}
			if strings.ContainsFunc(out, unicode.IsControl) {
				t.Errorf("%s(%q) = %q: holds a control character", name, s, out)
			}
			if (out == "") != (s == "") {
				t.Errorf("%s(%q) = %q: empty if and only if the input is", name, s, out)
			}
		}
		if n := utf8.RuneCountInString(outs["Mask"]); n > 4 {
			t.Errorf("Mask(%q) = %q: longer than 4 runes", s, outs["Mask"])
		}
		if n := len(outs["MaskSecret"]); n > 12 {
			t.Errorf("MaskSecret(%q) = %q: longer than 12 bytes", s, outs["MaskSecret"])
		}

		card := outs["MaskCard"]
		shown := digitsOf(card)
		if len(shown) > 4 {
			t.Fatalf("MaskCard(%q) = %q: shows %d digits", s, card, len(shown))
		}
		if shown != "" && !strings.HasSuffix(digitsOf(s), shown) {
			t.Errorf("MaskCard(%q) = %q: shows digits that are not the last of the input", s, card)
		}
	})
}

// digitsOf returns the digits of s, of any script, in order.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
