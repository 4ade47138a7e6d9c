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
