package redact_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// logged returns what log writes through the redacting handler, over the
// JSON and the text handler.
func logged(t *testing.T, log func(*slog.Logger)) string {
	t.Helper()
	r := newRedactor(t, nil)
	var buf bytes.Buffer
	log(slog.New(r.Handler(slog.NewJSONHandler(&buf, nil))))
	log(slog.New(r.Handler(slog.NewTextHandler(&buf, nil))))
	return buf.String()
}

// TestHandlerRedactsKeys checks that an e-mail address used as an
// attribute's key, a group's name or WithGroup's name does not reach the
// output.
func TestHandlerRedactsKeys(t *testing.T) {
	const email = "jane.doe@example.com"
	for name, log := range map[string]func(*slog.Logger){
		"record key":       func(l *slog.Logger) { l.Info("m", email, "x") },
		"record group key": func(l *slog.Logger) { l.Info("m", slog.Group(email, "a", "b")) },
		"nested key":       func(l *slog.Logger) { l.Info("m", slog.Group("g", slog.Int(email, 1))) },
		"WithAttrs key":    func(l *slog.Logger) { l.With(email, 1).Info("m") },
		"WithGroup name":   func(l *slog.Logger) { l.WithGroup(email).Info("m", "a", "b") },
		"hidden group key": func(l *slog.Logger) { l.WithGroup("secret").Info("m", email, "b") },
	} {
		out := logged(t, log)
		if strings.Contains(out, email) {
			t.Errorf("%s: the address reaches the output:\n%s", name, out)
		}
		if !strings.Contains(out, "[EMAIL]") {
			t.Errorf("%s: no [EMAIL] in the output:\n%s", name, out)
		}
	}
}

// TestHandlerHidesNoIgnoredAttrs checks that an empty attribute, or an
// empty group, under a key or group named like a secret is ignored, as
// slog.Handler's contract says and as the next handler would ignore it,
// rather than made to appear as "[REDACTED]".
func TestHandlerHidesNoIgnoredAttrs(t *testing.T) {
	for name, log := range map[string]func(*slog.Logger){
		"empty attr in a hidden group":       func(l *slog.Logger) { l.WithGroup("secret").Info("m", slog.Attr{}) },
		"WithAttrs empty attr, hidden group": func(l *slog.Logger) { l.WithGroup("secret").With(slog.Attr{}).Info("m") },
		"WithAttrs empty group, secret key":  func(l *slog.Logger) { l.With(slog.Group("token")).Info("m") },
	} {
		if out := logged(t, log); strings.Contains(out, "REDACTED") || strings.Contains(out, "secret") || strings.Contains(out, "token") {
			t.Errorf("%s: an ignored attribute appears:\n%s", name, out)
		}
	}
}

// shown is a value whose String method shows nothing, while the next
// handler writes it otherwise: with MarshalText (the text handler, and
// encoding/json) or MarshalJSON.
type shownText struct{ email string }

func (shownText) String() string                 { return "user" }
func (s shownText) MarshalText() ([]byte, error) { return []byte(s.email), nil }

type shownJSON struct{ email string }

func (shownJSON) Error() string                  { return "bad user" }
func (s shownJSON) MarshalJSON() ([]byte, error) { return []byte(`"` + s.email + `"`), nil }

// TestHandlerScansWhatIsWritten checks that a value is scanned as the
// next handler writes it, by MarshalText or MarshalJSON, not only as its
// String or Error method shows it.
func TestHandlerScansWhatIsWritten(t *testing.T) {
	const email = "jane.doe@example.com"
	for name, log := range map[string]func(*slog.Logger){
		"TextMarshaler":  func(l *slog.Logger) { l.Info("m", "u", shownText{email}) },
		"json.Marshaler": func(l *slog.Logger) { l.Info("m", "u", shownJSON{email}) },
		"in a group":     func(l *slog.Logger) { l.Info("m", slog.Group("g", "u", shownText{email})) },
	} {
		if out := logged(t, log); strings.Contains(out, email) {
			t.Errorf("%s: the address reaches the output:\n%s", name, out)
		}
	}
}

// userRef is a value whose String method shows nothing personal, but whose
// exported fields, which encoding/json writes, do.
type userRef struct{ Email string }

func (userRef) String() string { return "user" }

// TestHandlerScansWhatJSONWrites: a slog.JSONHandler writes a Stringer
// struct, and the elements of a slice or map of them, with encoding/json,
// field by field, not as String shows them: that is scanned too.
func TestHandlerScansWhatJSONWrites(t *testing.T) {
	u := userRef{Email: "jane.doe@example.com"}
	for name, v := range map[string]any{
		"Stringer struct":       u,
		"pointer to one":        &u,
		"slice of pointers":     []*userRef{&u},
		"map of them":           map[string]userRef{"k": u},
		"struct holding one":    struct{ U userRef }{u},
		"Stringer struct, nil":  (*userRef)(nil),
		"Stringer struct, none": userRef{},
	} {
		if out := logged(t, func(l *slog.Logger) { l.Info("m", "u", v) }); strings.Contains(out, "jane.doe@example.com") {
			t.Errorf("%s: the address reaches the output:\n%s", name, out)
		}
	}
}
