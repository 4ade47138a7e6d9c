package pii

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
)

// Email is an e-mail address, printed as [MaskEmail] masks it.
//
// Email, [Phone], [CardNumber], [Secret] and [Text] hold a clear value and
// show it masked wherever it is printed or encoded: by package fmt with any
// verb (String, Format, GoString), by log/slog with any handler
// (LogValue), and by encoding/json and every other encoder that uses
// [encoding.TextMarshaler] (MarshalJSON, MarshalText). They decode clear
// values normally (UnmarshalJSON, UnmarshalText), so they can be used in
// request types. The way back to clear text is the method Reveal, whose
// name can be searched for and audited.
//
// Being strings, they also convert: string(e) yields the clear value too,
// as does anything that reads the underlying string by reflection without
// calling methods. Known cases:
//
//   - fmt, and so slog's TextHandler, prints an unexported struct field of
//     these types in clear, because fmt cannot call methods on unexported
//     fields: export such fields, or give the struct a LogValue method;
//   - fmt's %p verb prints the value in clear, because fmt handles %p
//     before it consults any method;
//   - encoding/json writes map keys of these types in clear;
//   - database/sql stores the clear value, as it does for any string; seal
//     it first (see [Keyring.Seal]).
type Email string

// Phone is a telephone number, printed as [MaskPhone] masks it. It
// behaves like [Email]; [Phone.Reveal] returns the clear value.
type Phone string

// CardNumber is a payment card number, printed as [MaskCard] masks it. It
// behaves like [Email]; [CardNumber.Reveal] returns the clear value.
type CardNumber string

// Secret is an API key, token or password, printed as [MaskSecret] masks
// it. It behaves like [Email]; [Secret.Reveal] returns the clear value and
// [Secret.Equal] checks one in constant time.
type Secret string

// Text is any other personal text, such as a name or an address, printed
// as [Mask] masks it. It behaves like [Email]; [Text.Reveal] returns the
// clear value.
type Text string

// Reveal returns the clear e-mail address. Do not log it or show it to
// anyone not entitled to it; every other way of printing e shows it masked.
func (e Email) Reveal() string { return string(e) }

// Reveal returns the clear telephone number. Do not log it or show it to
// anyone not entitled to it; every other way of printing p shows it masked.
func (p Phone) Reveal() string { return string(p) }

// Reveal returns the clear card number. Do not log it or show it to anyone
// not entitled to it; every other way of printing c shows it masked.
func (c CardNumber) Reveal() string { return string(c) }

// Reveal returns the clear secret. Do not log it or show it to anyone; use
// it only to pass the secret to where it is used, and [Secret.Equal] to
// check one.
func (s Secret) Reveal() string { return string(s) }

// Reveal returns the clear text. Do not log it or show it to anyone not
// entitled to it; every other way of printing t shows it masked.
func (t Text) Reveal() string { return string(t) }

// Equal reports whether s equals other, in time that depends on neither
// value nor on where they differ: both are hashed with SHA-256 and the
// digests compared with [subtle.ConstantTimeCompare], so not even the
// length of s leaks through timing.
func (s Secret) Equal(other string) bool {
	a := sha256.Sum256([]byte(s))
	b := sha256.Sum256([]byte(other))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// String returns the masked address.
func (e Email) String() string { return MaskEmail(string(e)) }

// String returns the masked number.
func (p Phone) String() string { return MaskPhone(string(p)) }

// String returns the masked number.
func (c CardNumber) String() string { return MaskCard(string(c)) }

// String returns the masked secret.
func (s Secret) String() string { return MaskSecret(string(s)) }

// String returns the masked text.
func (t Text) String() string { return Mask(string(t)) }

// GoString returns a Go expression of the masked value, such as
// pii.Email("a***h@example.com"), for the %#v verb.
func (e Email) GoString() string { return goString("Email", e.String()) }

// GoString returns a Go expression of the masked value, such as
// pii.Phone("+** ** *** **34"), for the %#v verb.
func (p Phone) GoString() string { return goString("Phone", p.String()) }

// GoString returns a Go expression of the masked value, such as
// pii.CardNumber("**** **** **** 1111"), for the %#v verb.
func (c CardNumber) GoString() string { return goString("CardNumber", c.String()) }

// GoString returns a Go expression of the masked value, such as
// pii.Secret("sk_live_****"), for the %#v verb.
func (s Secret) GoString() string { return goString("Secret", s.String()) }

// GoString returns a Go expression of the masked value, such as
// pii.Text("A***"), for the %#v verb.
func (t Text) GoString() string { return goString("Text", t.String()) }

// Format prints the masked address with any verb; see [fmt.Formatter].
func (e Email) Format(f fmt.State, verb rune) { format(f, verb, "Email", e.String()) }

// Format prints the masked number with any verb; see [fmt.Formatter].
func (p Phone) Format(f fmt.State, verb rune) { format(f, verb, "Phone", p.String()) }

// Format prints the masked number with any verb; see [fmt.Formatter].
func (c CardNumber) Format(f fmt.State, verb rune) { format(f, verb, "CardNumber", c.String()) }

// Format prints the masked secret with any verb; see [fmt.Formatter].
func (s Secret) Format(f fmt.State, verb rune) { format(f, verb, "Secret", s.String()) }

// Format prints the masked text with any verb; see [fmt.Formatter].
func (t Text) Format(f fmt.State, verb rune) { format(f, verb, "Text", t.String()) }

// LogValue returns the masked address, so that log/slog never sees the
// clear one; see [slog.LogValuer].
func (e Email) LogValue() slog.Value { return slog.StringValue(e.String()) }

// LogValue returns the masked number, so that log/slog never sees the
// clear one; see [slog.LogValuer].
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.String()) }

// LogValue returns the masked number, so that log/slog never sees the
// clear one; see [slog.LogValuer].
func (c CardNumber) LogValue() slog.Value { return slog.StringValue(c.String()) }

// LogValue returns the masked secret, so that log/slog never sees the
// clear one; see [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// LogValue returns the masked text, so that log/slog never sees the clear
// text; see [slog.LogValuer].
func (t Text) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the masked address as a JSON string. Encoding is for
// display: a host that must store or send the clear address encodes
// [Email.Reveal] instead.
func (e Email) MarshalJSON() ([]byte, error) { return json.Marshal(e.String()) }

// MarshalJSON encodes the masked number as a JSON string. Encoding is for
// display: a host that must store or send the clear number encodes
// [Phone.Reveal] instead.
func (p Phone) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// MarshalJSON encodes the masked number as a JSON string. Encoding is for
// display: a host that must store or send the clear number encodes
// [CardNumber.Reveal] instead.
func (c CardNumber) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// MarshalJSON encodes the masked secret as a JSON string. Encoding is for
// display: a host that must store or send the clear secret encodes
// [Secret.Reveal] instead.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalJSON encodes the masked text as a JSON string. Encoding is for
// display: a host that must store or send the clear text encodes
// [Text.Reveal] instead.
func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// MarshalText returns the masked address, for encoders that use
// [encoding.TextMarshaler]; see [Email.MarshalJSON].
func (e Email) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// MarshalText returns the masked number, for encoders that use
// [encoding.TextMarshaler]; see [Phone.MarshalJSON].
func (p Phone) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// MarshalText returns the masked number, for encoders that use
// [encoding.TextMarshaler]; see [CardNumber.MarshalJSON].
func (c CardNumber) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// MarshalText returns the masked secret, for encoders that use
// [encoding.TextMarshaler]; see [Secret.MarshalJSON].
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalText returns the masked text, for encoders that use
// [encoding.TextMarshaler]; see [Text.MarshalJSON].
func (t Text) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalJSON decodes a clear address from a JSON string, such as a
// request body. JSON null leaves e unchanged; any other JSON value is an
// error. The address is not validated.
func (e *Email) UnmarshalJSON(data []byte) error { return unmarshalJSON((*string)(e), "Email", data) }

// UnmarshalJSON decodes a clear number from a JSON string, such as a
// request body. JSON null leaves p unchanged; any other JSON value is an
// error. The number is not validated.
func (p *Phone) UnmarshalJSON(data []byte) error { return unmarshalJSON((*string)(p), "Phone", data) }

// UnmarshalJSON decodes a clear number from a JSON string, such as a
// request body. JSON null leaves c unchanged; any other JSON value is an
// error. The number is not validated.
func (c *CardNumber) UnmarshalJSON(data []byte) error {
	return unmarshalJSON((*string)(c), "CardNumber", data)
}

// UnmarshalJSON decodes a clear secret from a JSON string, such as a
// request body. JSON null leaves s unchanged; any other JSON value is an
// error.
func (s *Secret) UnmarshalJSON(data []byte) error { return unmarshalJSON((*string)(s), "Secret", data) }

// UnmarshalJSON decodes clear text from a JSON string, such as a request
// body. JSON null leaves t unchanged; any other JSON value is an error.
func (t *Text) UnmarshalJSON(data []byte) error { return unmarshalJSON((*string)(t), "Text", data) }

// UnmarshalText sets e to the clear address text, for decoders that use
// [encoding.TextUnmarshaler]. It never fails.
func (e *Email) UnmarshalText(text []byte) error { *e = Email(text); return nil }

// UnmarshalText sets p to the clear number text, for decoders that use
// [encoding.TextUnmarshaler]. It never fails.
func (p *Phone) UnmarshalText(text []byte) error { *p = Phone(text); return nil }

// UnmarshalText sets c to the clear number text, for decoders that use
// [encoding.TextUnmarshaler]. It never fails.
func (c *CardNumber) UnmarshalText(text []byte) error { *c = CardNumber(text); return nil }

// UnmarshalText sets s to the clear secret text, for decoders that use
// [encoding.TextUnmarshaler]. It never fails.
func (s *Secret) UnmarshalText(text []byte) error { *s = Secret(text); return nil }

// UnmarshalText sets t to the clear text, for decoders that use
// [encoding.TextUnmarshaler]. It never fails.
func (t *Text) UnmarshalText(text []byte) error { *t = Text(text); return nil }

// goString returns `pii.<typ>("<masked>")`.
func goString(typ, masked string) string {
	return "pii." + typ + "(" + strconv.Quote(masked) + ")"
}

// format prints masked, never the clear value, for every verb: %v, %s, %q,
// %x and %X as fmt prints a string, with the same flags, width and
// precision; %#v as the GoString form; any other verb as fmt reports a bad
// verb, with the masked value: %!d(pii.Email=a***@example.com).
func format(f fmt.State, verb rune, typ, masked string) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, goString(typ, masked))
			return
		}
		fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
	case 's', 'q', 'x', 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
	default:
		fmt.Fprintf(f, "%%!%c(pii.%s=%s)", verb, typ, masked)
	}
}

// unmarshalJSON decodes a JSON string into dst. Its errors never repeat
// the data, which may be personal.
func unmarshalJSON(dst *string, typ string, data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '"' {
		return errors.New("pii: " + typ + " must be a JSON string")
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("pii: " + typ + " is not a valid JSON string")
	}
	*dst = s
	return nil
}
