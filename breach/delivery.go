package breach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/dataward/dataward"
)

// ErrPermanent is matched by a [Notifier]'s error for a delivery that no
// retry can make succeed (an invalid address, a recipient the server
// refuses): the [Outbox] records it as failed at once.
var ErrPermanent = errors.New("breach: permanent delivery failure")

// Recipient is who a notice is delivered to: a data subject (or a
// customer) through a channel at an address. The address is personal data:
// Recipient prints it masked ([Recipient.String], [Recipient.LogValue]),
// and no error or audit event of this package holds it.
type Recipient struct {
	Subject dataward.SubjectID // the host's opaque identifier of the person
	Channel string             // the notifier: "email", "webhook", "log", ...
	Address string             // clear text: an e-mail address, a URL
}

// String returns the recipient with its address masked, e.g.
// "email:cust-42 j***@example.com".
func (r Recipient) String() string {
	return r.Channel + ":" + string(r.Subject) + " " + MaskAddress(r.Address)
}

// LogValue makes slog print the recipient masked.
func (r Recipient) LogValue() slog.Value { return slog.StringValue(r.String()) }

// key returns the channel and the normalised address, hashed: what
// de-duplication and the outbox compare.
func (r Recipient) key() string {
	sum := sha256.Sum256([]byte(r.Channel + "\x00" + strings.ToLower(strings.TrimSpace(r.Address))))
	return hex.EncodeToString(sum[:16])
}

// MaskAddress masks an address for display: the first character of an
// e-mail's local part and its domain ("j***@example.com"), or the scheme
// and host of a URL.
func MaskAddress(a string) string {
	if i := strings.LastIndexByte(a, '@'); i > 0 {
		return a[:1] + "***" + a[i:]
	}
	if scheme, rest, ok := strings.Cut(a, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		return scheme + "://" + host + "/***"
	}
	if a == "" {
		return ""
	}
	return "***"
}

// ContactQuery selects the affected subjects a [ContactSource] streams:
// those whose data of the categories is kept in the stores, and was there
// in the window.
type ContactQuery struct {
	Incident       string
	DataCategories []string  // fideslang keys; empty means any
	Stores         []string  // the host's names of its stores; empty means all
	From, To       time.Time // the window of the breach; zero means unbounded
}

// ContactSource is implemented by the host: it streams the contacts of
// the subjects a breach affected. Contacts may repeat (a person in two
// stores); [Dedup] removes the repeats.
type ContactSource interface {
	Contacts(ctx context.Context, q ContactQuery) iter.Seq2[Recipient, error]
}

// ContactSourceFunc adapts a function to [ContactSource].
type ContactSourceFunc func(ctx context.Context, q ContactQuery) iter.Seq2[Recipient, error]

// Contacts returns f(ctx, q).
func (f ContactSourceFunc) Contacts(ctx context.Context, q ContactQuery) iter.Seq2[Recipient, error] {
	return f(ctx, q)
}

// Dedup yields each recipient of seq once: the first with a given channel
// and address (compared without case and surrounding space). It keeps a
// 16-byte hash per distinct recipient in memory.
func Dedup(seq iter.Seq2[Recipient, error]) iter.Seq2[Recipient, error] {
	return func(yield func(Recipient, error) bool) {
		seen := make(map[string]bool)
		for r, err := range seq {
			if err == nil {
				k := r.key()
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// Message is one notice to one recipient, as a [Notifier] delivers it.
type Message struct {
	ID       string // the delivery's ID: the idempotency key and e-mail Message-ID
	Incident string
	Regime   string
	Party    Party
	Phase    string
	To       Recipient
	Subject  string
	Text     string
	HTML     string
}

// Notifier delivers messages through one channel. Deliver returns a proof
// of delivery (the server's reply, e.g. "250 2.0.0 queued as 4711"), or an
// error: one matching [ErrPermanent] when no retry can succeed. Errors
// must not contain the recipient's address. Implementations are safe for
// concurrent use.
type Notifier interface {
	Deliver(ctx context.Context, m Message) (proof string, err error)
}

// NotifierFunc adapts a function to [Notifier].
type NotifierFunc func(ctx context.Context, m Message) (string, error)

// Deliver returns f(ctx, m).
func (f NotifierFunc) Deliver(ctx context.Context, m Message) (string, error) { return f(ctx, m) }

// permanent wraps err as a permanent failure.
func permanent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPermanent, fmt.Sprintf(format, args...))
}
