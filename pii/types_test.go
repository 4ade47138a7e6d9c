package pii_test

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii"
)

// masked is one of the clear-text types, as the tests use it.
type masked interface {
	fmt.Stringer
	fmt.Formatter
	fmt.GoStringer
	slog.LogValuer
	json.Marshaler
	encoding.TextMarshaler
	Reveal() string
}

var (
	_ masked = pii.Email("")
	_ masked = pii.Phone("")
	_ masked = pii.CardNumber("")
	_ masked = pii.Secret("")
	_ masked = pii.Text("")

	_ json.Unmarshaler         = (*pii.Email)(nil)
	_ encoding.TextUnmarshaler = (*pii.Email)(nil)
	_ json.Unmarshaler         = (*pii.Phone)(nil)
	_ encoding.TextUnmarshaler = (*pii.Phone)(nil)
	_ json.Unmarshaler         = (*pii.CardNumber)(nil)
	_ encoding.TextUnmarshaler = (*pii.CardNumber)(nil)
	_ json.Unmarshaler         = (*pii.Secret)(nil)
	_ encoding.TextUnmarshaler = (*pii.Secret)(nil)
	_ json.Unmarshaler         = (*pii.Text)(nil)
	_ encoding.TextUnmarshaler = (*pii.Text)(nil)
)

// typeCase is a value of each type, with its masked form and parts of the
// clear value that must never be printed.
type typeCase struct {
	name   string
	value  masked
	ptr    any // a pointer to value's concrete type
	clear  string
	mask   string
	secret []string // parts of the clear value that the mask hides
}

var typeCases = []typeCase{
	{"Email", pii.Email("alice.smith@example.com"), ptrTo(pii.Email("alice.smith@example.com")), "alice.smith@example.com", "a***h@example.com", []string{"alice.smith", "smith@"}},
	{"Phone", pii.Phone("+27 82 555 1234"), ptrTo(pii.Phone("+27 82 555 1234")), "+27 82 555 1234", "+** ** *** **34", []string{"+27 82 555", "555"}},
	{"CardNumber", pii.CardNumber("4111 1111 1111 1234"), ptrTo(pii.CardNumber("4111 1111 1111 1234")), "4111 1111 1111 1234", "**** **** **** 1234", []string{"4111", "1111"}},
	{"Secret", pii.Secret("sk_live_51HxYzAbCdEfGh"), ptrTo(pii.Secret("sk_live_51HxYzAbCdEfGh")), "sk_live_51HxYzAbCdEfGh", "sk_live_****", []string{"51HxYz", "EfGh"}},
	{"Text", pii.Text("Alice Smith"), ptrTo(pii.Text("Alice Smith")), "Alice Smith", "A***", []string{"Alice", "Smith"}},
}

func ptrTo[T any](v T) *T { return &v }

// forbidden returns what output about tc must never contain: its clear
// value and hidden parts, as they are and hex-encoded.
func (tc typeCase) forbidden() []string {
	var out []string
	for _, s := range append([]string{tc.clear}, tc.secret...) {
		h := hex.EncodeToString([]byte(s))
		out = append(out, s, h, strings.ToUpper(h))
	}
	return out
}

func (tc typeCase) assertHidden(t *testing.T, out, how string) {
	t.Helper()
	for _, bad := range tc.forbidden() {
		assert.NotContains(t, out, bad, "%s printed %q", how, out)
	}
}

func TestTypesRevealAndMask(t *testing.T) {
	for _, tc := range typeCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.clear, tc.value.Reveal())
			assert.Equal(t, tc.mask, tc.value.String())
		})
	}
}

func TestTypesFormatNeverPrintsClearText(t *testing.T) {
	verbs := []string{
		"%v", "%+v", "%#v", "%s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "% X",
		"%d", "%c", "%U", "%t", "%f", "%T", "%30v", "%-30s", "%.50s", "%050v", "%[1]v", "%!",
		"no verb, so an extra argument",
	}
	for _, tc := range typeCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, verb := range verbs {
				tc.assertHidden(t, fmt.Sprintf(verb, tc.value), verb)
				tc.assertHidden(t, fmt.Sprintf(verb, tc.ptr), verb+" of a pointer")
				tc.assertHidden(t, fmt.Sprintf(verb, []masked{tc.value}), verb+" of a slice")
			}
			tc.assertHidden(t, fmt.Sprint(tc.value), "Sprint")
			tc.assertHidden(t, fmt.Sprintln(tc.value, tc.value), "Sprintln")
			tc.assertHidden(t, fmt.Errorf("failed for %v", tc.value).Error(), "Errorf")
		})
	}
}

func TestTypesFormatPrintsMask(t *testing.T) {
	e := pii.Email("alice.smith@example.com")
	const m = "a***h@example.com"
	for verb, want := range map[string]string{
		"%v":     m,
		"%+v":    m,
		"%s":     m,
		"%#v":    `pii.Email("a***h@example.com")`,
		"%q":     `"a***h@example.com"`,
		"%x":     hex.EncodeToString([]byte(m)),
		"%X":     strings.ToUpper(hex.EncodeToString([]byte(m))),
		"%d":     "%!d(pii.Email=a***h@example.com)",
		"%T":     "pii.Email",
		"%20s|":  "   a***h@example.com|",
		"%-20s|": "a***h@example.com   |",
		"%.5s":   "a***h",
	} {
		assert.Equal(t, want, fmt.Sprintf(verb, e), verb)
	}
	assert.Equal(t, `pii.Secret("sk_live_****")`, pii.Secret("sk_live_51HxYzAbCdEfGh").GoString())
	assert.Equal(t, `pii.CardNumber("**** **** **** 1234")`, fmt.Sprintf("%#v", pii.CardNumber("4111 1111 1111 1234")))
}

// maskedCustomer is a host's record type holding personal data in exported fields.
type maskedCustomer struct {
	ID      int
	Name    pii.Text
	Email   pii.Email
	Phone   pii.Phone `json:"phone,omitempty"`
	Card    *pii.CardNumber
	APIKeys []pii.Secret
	Address struct{ Line pii.Text }
}

func newMaskedCustomer() maskedCustomer {
	card := pii.CardNumber("4111 1111 1111 1234")
	c := maskedCustomer{
		ID:      7,
		Name:    "Alice Smith",
		Email:   "alice.smith@example.com",
		Phone:   "+27 82 555 1234",
		Card:    &card,
		APIKeys: []pii.Secret{"sk_live_51HxYzAbCdEfGh"},
	}
	c.Address.Line = "Alice Smith, 1 Long Street"
	return c
}

func TestTypesInStructsNeverPrintClearText(t *testing.T) {
	c := newMaskedCustomer()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out := fmt.Sprintf(verb, c)
		out += fmt.Sprintf(verb, &c)
		out += fmt.Sprintf(verb, map[string]maskedCustomer{"c": c})
		for _, tc := range typeCases {
			tc.assertHidden(t, out, verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", c), "Email:a***h@example.com")
}

func TestTypesSlogNeverSeesClearText(t *testing.T) {
	c := newMaskedCustomer()
	// Without the time, whose digits could match a hidden part by chance.
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, opts) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, opts) },
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(newHandler(&buf))
			for _, tc := range typeCases {
				log.Info("value", "v", tc.value)
				log.Info("attr", slog.Any("v", tc.value))
				log.Info("group", slog.Group("g", slog.Any("v", tc.value)))
				log.Info("slice", slog.Any("v", []masked{tc.value}))
				log.With("v", tc.value).Info("with")
				log.WithGroup("g").Info("with group", "v", tc.value)
			}
			log.Info("pointer", "v", c.Card, slog.Any("p", c.Card))
			for _, tc := range typeCases {
				log.Info("pointer", "v", tc.ptr)
			}
			log.Info("struct", slog.Any("customer", c))
			log.Info("struct pointer", slog.Any("customer", &c))
			log.Info("map", slog.Any("customers", map[string]maskedCustomer{"c": c}))

			out := buf.String()
			for _, tc := range typeCases {
				tc.assertHidden(t, out, name+" handler")
				assert.Contains(t, out, tc.mask)
			}
		})
	}
}

func TestTypesJSONMasked(t *testing.T) {
	c := newMaskedCustomer()
	got, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"ID": 7,
		"Name": "A***",
		"Email": "a***h@example.com",
		"phone": "+** ** *** **34",
		"Card": "**** **** **** 1234",
		"APIKeys": ["sk_live_****"],
		"Address": {"Line": "A***"}
	}`, string(got))
	for _, tc := range typeCases {
		tc.assertHidden(t, string(got), "json.Marshal")
	}

	t.Run("decodes clear values", func(t *testing.T) {
		var in maskedCustomer
		err := json.Unmarshal([]byte(`{
			"Name": "Alice Smith",
			"Email": "alice.smith@example.com",
			"phone": "+27 82 555 1234",
			"Card": "4111 1111 1111 1234",
			"APIKeys": ["sk_live_51HxYzAbCdEfGh"],
			"Address": {"Line": "Alice Smith, 1 Long Street"}
		}`), &in)
		require.NoError(t, err)
		assert.Equal(t, "Alice Smith", in.Name.Reveal())
		assert.Equal(t, "alice.smith@example.com", in.Email.Reveal())
		assert.Equal(t, "+27 82 555 1234", in.Phone.Reveal())
		require.NotNil(t, in.Card)
		assert.Equal(t, "4111 1111 1111 1234", in.Card.Reveal())
		assert.Equal(t, []pii.Secret{"sk_live_51HxYzAbCdEfGh"}, in.APIKeys)
		assert.Equal(t, "Alice Smith, 1 Long Street", in.Address.Line.Reveal())
	})

	t.Run("decodes escapes", func(t *testing.T) {
		var e pii.Email
		require.NoError(t, json.Unmarshal([]byte(`"al\u0069ce@example.com"`), &e))
		assert.Equal(t, "alice@example.com", e.Reveal())
	})

	t.Run("null leaves the value unchanged", func(t *testing.T) {
		e := pii.Email("alice@example.com")
		require.NoError(t, json.Unmarshal([]byte(`null`), &e))
		assert.Equal(t, "alice@example.com", e.Reveal())
	})

	t.Run("non-strings are refused without echoing them", func(t *testing.T) {
		for _, data := range []string{`27825551234`, `{"a":"alice@example.com"}`, `["alice@example.com"]`, `true`} {
			var e pii.Email
			err := json.Unmarshal([]byte(data), &e)
			require.Error(t, err, data)
			assert.NotContains(t, err.Error(), "alice")
			assert.NotContains(t, err.Error(), "2782555")
			assert.Empty(t, e.Reveal())
		}
		var p pii.Phone
		err := p.UnmarshalJSON([]byte(`"+27 82 555 1234`))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "555")
		assert.Equal(t, "pii: Phone is not a valid JSON string", err.Error())
		err = p.UnmarshalJSON([]byte(`27825551234`))
		assert.Equal(t, "pii: Phone must be a JSON string", err.Error())
	})
}

func TestTypesText(t *testing.T) {
	c := newMaskedCustomer()
	got, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"customer"`
		Email   pii.Email
		Secret  pii.Secret `xml:"key,attr"`
	}{Email: c.Email, Secret: c.APIKeys[0]})
	require.NoError(t, err)
	assert.Equal(t, `<customer key="sk_live_****"><Email>a***h@example.com</Email></customer>`, string(got))

	for _, tc := range typeCases {
		text, err := tc.value.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, tc.mask, string(text))
	}

	var e pii.Email
	var p pii.Phone
	var n pii.CardNumber
	var s pii.Secret
	var x pii.Text
	for _, u := range []encoding.TextUnmarshaler{&e, &p, &n, &s, &x} {
		require.NoError(t, u.UnmarshalText([]byte("clear value")))
	}
	for _, v := range []masked{e, p, n, s, x} {
		assert.Equal(t, "clear value", v.Reveal())
	}
}

func TestSecretEqual(t *testing.T) {
	s := pii.Secret("sk_live_51HxYzAbCdEfGh")
	assert.True(t, s.Equal("sk_live_51HxYzAbCdEfGh"))
	assert.False(t, s.Equal("sk_live_51HxYzAbCdEfGi"))
	assert.False(t, s.Equal("sk_live_51HxYzAbCdEfG"))
	assert.False(t, s.Equal("sk_live_51HxYzAbCdEfGhh"))
	assert.False(t, s.Equal(""))
	assert.True(t, pii.Secret("").Equal(""))
	assert.False(t, pii.Secret("").Equal("x"))
}

func TestTypesErrorsWrapMasked(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("send to %v: %w", pii.Email("alice.smith@example.com"), base)
	assert.ErrorIs(t, err, base)
	assert.Equal(t, "send to a***h@example.com: boom", err.Error())
}
