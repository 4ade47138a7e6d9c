package redact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

// TestSlogtest runs the standard library's conformance suite over the
// handler wrapping the JSON and the text handler.
func TestSlogtest(t *testing.T) {
	r := newRedactor(t, nil)
	for _, tc := range []struct {
		name  string
		next  func(*bytes.Buffer) slog.Handler
		parse func(*testing.T, []byte) map[string]any
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }, parseJSON},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }, parseText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			slogtest.Run(t, func(*testing.T) slog.Handler {
				buf.Reset()
				return r.Handler(tc.next(&buf))
			}, func(t *testing.T) map[string]any {
				return tc.parse(t, buf.Bytes())
			})
		})
	}
}

func parseJSON(t *testing.T, line []byte) map[string]any {
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(line, &m))
	return m
}

// parseText parses one line of the text handler: key=value pairs, values
// perhaps quoted, keys of groups joined by dots.
func parseText(t *testing.T, line []byte) map[string]any {
	m := map[string]any{}
	s := strings.TrimSuffix(string(line), "\n")
	for s != "" {
		key, rest, ok := strings.Cut(s, "=")
		require.True(t, ok, "no '=' in %q", s)
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			require.NoError(t, err)
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			val, rest, _ = strings.Cut(rest, " ")
		}
		s = strings.TrimPrefix(rest, " ")
		g := m
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := g[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				g[p] = sub
			}
			g = sub
		}
		g[parts[len(parts)-1]] = val
	}
	return m
}

// logOne logs through a Redactor's handler over a JSON handler and
// returns the record written, without its time and level.
func logOne(t *testing.T, r *redact.Redactor, log func(*slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log(slog.New(r.Handler(slog.NewJSONHandler(&buf, nil))))
	m := parseJSON(t, buf.Bytes())
	delete(m, slog.TimeKey)
	delete(m, slog.LevelKey)
	return m
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type nilStringer struct{ s string }

func (s *nilStringer) String() string { return s.s }

type loginEvent struct {
	User  string
	Where string
}

func (e loginEvent) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", e.User), slog.String("where", e.Where))
}

type order struct {
	ID    string
	Email string
}

func TestHandlerRedacts(t *testing.T) {
	r := newRedactor(t, &redact.Options{Keys: []string{"ssn"}})
	for _, tc := range []struct {
		name string
		log  func(*slog.Logger)
		want map[string]any
	}{
		{"message", func(l *slog.Logger) { l.Info("mail to " + email + " bounced") },
			map[string]any{"msg": "mail to [EMAIL] bounced"}},
		{"string", func(l *slog.Logger) { l.Info("m", "to", email, "n", 3) },
			map[string]any{"msg": "m", "to": "[EMAIL]", "n": 3.0}},
		{"only the attributes that hold data change", func(l *slog.Logger) {
			l.Info("m", "a", "one", "b", "two", "c", "three", "d", "four", "e", "five", "f", phone, "g", "seven", "h", ip)
		}, map[string]any{"msg": "m", "a": "one", "b": "two", "c": "three", "d": "four", "e": "five", "f": "[PHONE]", "g": "seven", "h": "[IPV4]"}},
		{"secret keys, whatever the value", func(l *slog.Logger) {
			l.Info("m", "password", "hunter2", "accessToken", 42, "X-API-Key", "k", "user.SSN", "x",
				slog.Group("credentials", "user", "jane", "pin", 1234), "passport", "fine")
		}, map[string]any{"msg": "m", "password": "[REDACTED]", "accessToken": "[REDACTED]", "X-API-Key": "[REDACTED]",
			"user.SSN": "[REDACTED]", "credentials": "[REDACTED]", "passport": "fine"}},
		{"secret keys, whatever the value's kind", func(l *slog.Logger) {
			l.Info("m", "apiKey", true, "cvv", 1.5, "tokenTTL", time.Minute, "secretRotated", time.Unix(0, 0), "ttl", time.Minute)
		}, map[string]any{"msg": "m", "apiKey": "[REDACTED]", "cvv": "[REDACTED]", "tokenTTL": "[REDACTED]",
			"secretRotated": "[REDACTED]", "ttl": float64(time.Minute)}},
		{"error", func(l *slog.Logger) { l.Info("m", "err", fmt.Errorf("no account for %s", email)) },
			map[string]any{"msg": "m", "err": "no account for [EMAIL]"}},
		{"clean error", func(l *slog.Logger) { l.Info("m", "err", errors.New("timeout")) },
			map[string]any{"msg": "m", "err": "timeout"}},
		{"stringer", func(l *slog.Logger) { l.Info("m", "s", stringer{"card " + card}) },
			map[string]any{"msg": "m", "s": "card [CARD]"}},
		{"clean stringer keeps its encoding", func(l *slog.Logger) { l.Info("m", "s", stringer{"fine"}) },
			map[string]any{"msg": "m", "s": map[string]any{}}},
		{"nil pointer stringer", func(l *slog.Logger) { l.Info("m", "s", (*nilStringer)(nil)) },
			map[string]any{"msg": "m", "s": "<nil>"}},
		{"bytes", func(l *slog.Logger) { l.Info("m", "b", []byte("from "+ip)) },
			map[string]any{"msg": "m", "b": "from [IPV4]"}},
		{"named bytes", func(l *slog.Logger) { l.Info("m", "body", json.RawMessage(`{"to":"`+email+`"}`)) },
			map[string]any{"msg": "m", "body": `{"to":"[EMAIL]"}`}},
		{"a long integer", func(l *slog.Logger) {
			l.Info("m", "n", int64(4111111111111111), "u", uint64(4111111111111111), "small", 7)
		},
			map[string]any{"msg": "m", "n": "[CARD]", "u": "[CARD]", "small": 7.0}},
		{"log valuer", func(l *slog.Logger) { l.Info("m", "login", loginEvent{email, ip}) },
			map[string]any{"msg": "m", "login": map[string]any{"user": "[EMAIL]", "where": "[IPV4]"}}},
		{"pii types arrive masked", func(l *slog.Logger) { l.Info("m", "e", pii.Email(email), "c", pii.CardNumber(card)) },
			map[string]any{"msg": "m", "e": "j***e@example.com", "c": "**** **** **** 1111"}},
		{"nested groups", func(l *slog.Logger) {
			l.Info("m", slog.Group("a", "x", 1, slog.Group("b", "to", email, "password", "p")))
		}, map[string]any{"msg": "m", "a": map[string]any{"x": 1.0, "b": map[string]any{"to": "[EMAIL]", "password": "[REDACTED]"}}}},
		{"a struct is scanned as printed", func(l *slog.Logger) { l.Info("m", "order", order{"o-1", email}) },
			map[string]any{"msg": "m", "order": "{ID:o-1 Email:[EMAIL]}"}},
		{"a clean struct keeps its encoding", func(l *slog.Logger) { l.Info("m", "order", order{"o-1", "none"}) },
			map[string]any{"msg": "m", "order": map[string]any{"ID": "o-1", "Email": "none"}}},
		{"a map that holds itself", func(l *slog.Logger) {
			m := map[string]any{"to": email}
			m["self"] = m
			l.Info("m", "m", m)
		}, map[string]any{"msg": "m", "m": "[REDACTED]"}},
		{"a deep but finite value", func(l *slog.Logger) {
			var v any = email
			for range 20 {
				v = []any{v}
			}
			l.Info("m", "v", v)
		}, map[string]any{"msg": "m", "v": strings.Repeat("[", 20) + "[EMAIL]" + strings.Repeat("]", 20)}},
		{"with attrs", func(l *slog.Logger) {
			l.With("user", email, "token", "t").Info("m", "ip", ip)
		}, map[string]any{"msg": "m", "user": "[EMAIL]", "token": "[REDACTED]", "ip": "[IPV4]"}},
		{"with group", func(l *slog.Logger) {
			l.WithGroup("req").With("from", ip).WithGroup("body").Info("m", "to", email)
		}, map[string]any{"msg": "m", "req": map[string]any{"from": "[IPV4]", "body": map[string]any{"to": "[EMAIL]"}}}},
		{"a group named like a secret hides its values", func(l *slog.Logger) {
			l.WithGroup("secrets").With("a", "x").Info("m", "b", 2)
		}, map[string]any{"msg": "m", "secrets": map[string]any{"a": "[REDACTED]", "b": "[REDACTED]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, logOne(t, r, tc.log))
		})
	}
}

// TestHandlerRemembersKeys logs the same keys again and again, as the
// constant keys of an application's log calls are: the verdicts the
// handler remembers for them (a secret or not) must be those it worked
// out, whether the key's bytes are the ones remembered or an equal copy.
func TestHandlerRemembersKeys(t *testing.T) {
	r := newRedactor(t, nil)
	want := map[string]any{"msg": "m", "password": "[REDACTED]", "apiKey": "[REDACTED]", "credentials": "[REDACTED]",
		"user": "jane", "to": "[EMAIL]", "n": 3.0}
	for i := range 4 {
		keys := []string{"password", "apiKey", "user", "to", "n"}
		if i%2 == 1 {
			for k := range keys {
				keys[k] = strings.Clone(keys[k]) // equal keys, other bytes
			}
		}
		got := logOne(t, r, func(l *slog.Logger) {
			l.Info("m", keys[0], "hunter2", keys[1], true, slog.Group("credentials", "retries", 2),
				keys[2], "jane", keys[3], email, keys[4], 3)
		})
		assert.Equal(t, want, got, "record %d", i)
	}
}

func TestHandlerStrategies(t *testing.T) {
	r := newRedactor(t, &redact.Options{
		Strategies:   map[detect.Type]redact.Strategy{detect.Email: redact.Pseudonym, detect.Card: redact.Mask},
		PseudonymKey: testKey,
	})
	got := logOne(t, r, func(l *slog.Logger) { l.Info("m", "to", email, "card", card) })
	assert.Equal(t, map[string]any{"msg": "m", "to": r.String(email), "card": "**** **** **** 1111"}, got)
}

// recorder keeps the records it handles.
type recorder struct {
	slog.Handler
	records []slog.Record
}

func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r)
	return nil
}

func TestHandlerLeavesCleanRecordsUnchanged(t *testing.T) {
	r := newRedactor(t, nil)
	next := &recorder{Handler: slog.DiscardHandler}
	h := r.Handler(next)
	rec := slog.NewRecord(time.Unix(1, 0), slog.LevelInfo, "clean", 0)
	rec.AddAttrs(slog.String("a", "b"), slog.Int("n", 1), slog.Any("err", errors.New("timeout")))
	require.NoError(t, h.Handle(context.Background(), rec))
	require.Len(t, next.records, 1)
	got := next.records[0]
	assert.Equal(t, rec.Message, got.Message)
	assert.True(t, slices.EqualFunc(attrsOf(rec), attrsOf(got), slog.Attr.Equal), "the attributes changed")
}

func attrsOf(rec slog.Record) []slog.Attr {
	var as []slog.Attr
	rec.Attrs(func(a slog.Attr) bool {
		as = append(as, a)
		return true
	})
	return as
}

func TestHandlerEnabled(t *testing.T) {
	r := newRedactor(t, nil)
	h := r.Handler(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	assert.False(t, h.Enabled(context.Background(), slog.LevelInfo))
	assert.True(t, h.Enabled(context.Background(), slog.LevelError))
	assert.Same(t, h, h.WithGroup(""))
	assert.Same(t, h, h.WithAttrs(nil))
	assert.Panics(t, func() { r.Handler(nil) })
}

// benchRecord returns the record of the benchmarks: five attributes, none
// of them personal data, or three of them.
func benchRecord(withPII bool) slog.Record {
	customer, contact, client := "cust-4821", "via the web form", "checkout-service"
	if withPII {
		customer, contact, client = email, phone, ip
	}
	rec := slog.NewRecord(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), slog.LevelInfo, "order placed", 0)
	rec.AddAttrs(
		slog.String("order", "ord-7731"),
		slog.String("customer", customer),
		slog.String("contact", contact),
		slog.String("client", client),
		slog.Duration("elapsed", 1830*time.Microsecond),
	)
	return rec
}

// TestHandlerAddsNoAllocation compares the handler over a JSON handler with
// the bare JSON handler, for records that need no change, and for one
// whose values that change are each one finding alone, which become a tag
// made once.
func TestHandlerAddsNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under -race, which allocates; runs in go test without -race")
	}
	r := newRedactor(t, nil)
	ctx := context.Background()
	clean := benchRecord(false)
	withValuer := slog.NewRecord(clean.Time, clean.Level, clean.Message, 0)
	withValuer.AddAttrs(slog.String("order", "ord-7731"), slog.Int("items", 3), slog.Any("to", pii.Email(email)),
		slog.Any("err", errors.New("timeout")), slog.Any("s", stringer{"fine"}))
	// Rebuilding a record of more than five attributes would allocate.
	long := benchRecord(false)
	long.AddAttrs(slog.String("region", "af-south-1"), slog.Bool("retry", false), slog.Any("err", errors.New("timeout")))
	for name, rec := range map[string]slog.Record{
		"clean":       clean,
		"clean, long": long,
		"with a log valuer, an error and a stringer": withValuer,
		"three values that are one finding each":     benchRecord(true),
	} {
		t.Run(name, func(t *testing.T) {
			bare := slog.NewJSONHandler(discard{}, nil)
			h := r.Handler(slog.NewJSONHandler(discard{}, nil))
			require.NoError(t, h.Handle(ctx, rec)) // warm the pools
			base := testing.AllocsPerRun(200, func() { _ = bare.Handle(ctx, rec) })
			got := testing.AllocsPerRun(200, func() { _ = h.Handle(ctx, rec) })
			assert.Equal(t, base, got, "allocations per record: %v bare, %v through the redacting handler", base, got)
		})
	}
}

// discard is io.Discard, without its pool of buffers.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
