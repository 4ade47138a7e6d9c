package breach

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// The headers of a webhook delivery.
const (
	HeaderSignature   = "Dataward-Signature" // "v1=" and the hex HMAC-SHA256 of timestamp + "." + body
	HeaderTimestamp   = "Dataward-Timestamp" // Unix seconds when it was signed
	HeaderIdempotency = "Idempotency-Key"    // the delivery's ID: the same on every retry
)

// WebhookPayload is the JSON body of a webhook delivery.
type WebhookPayload struct {
	ID       string `json:"id"`
	Incident string `json:"incident"`
	Regime   string `json:"regime"`
	Party    Party  `json:"party"`
	Phase    string `json:"phase"`
	Subject  string `json:"subject"` // the notice's title
	Text     string `json:"text"`
	HTML     string `json:"html,omitempty"`
	// Recipient is the host's identifier of the person (or customer) the
	// notice is for; the URL is the address.
	Recipient dataward.SubjectID `json:"recipient"`
}

// WebhookOptions configure a [WebhookNotifier]. The zero value (or nil)
// is the default.
type WebhookOptions struct {
	Client      *http.Client  // nil: a client with a 10 s timeout
	MaxAttempts int           // tries per Deliver; 5 by default
	BaseDelay   time.Duration // the first backoff; 200 ms by default, doubled per retry
	MaxDelay    time.Duration // the longest backoff; 10 s by default
	Clock       dataward.Clock
}

// WebhookNotifier delivers messages as JSON POSTs ([WebhookPayload]) to
// the recipient's URL, signed with HMAC-SHA256 over the timestamp and the
// body ([HeaderSignature], [HeaderTimestamp]) and carrying the delivery ID
// as [HeaderIdempotency]. It retries network errors, 408, 429 and 5xx
// with exponential backoff and full jitter; any other 4xx, or a URL that
// is not http(s), is a permanent failure. It is safe for concurrent use.
type WebhookNotifier struct {
	secret []byte
	o      WebhookOptions
}

// NewWebhookNotifier returns a notifier signing with secret (at least 32
// bytes).
func NewWebhookNotifier(secret []byte, opts *WebhookOptions) (*WebhookNotifier, error) {
	if len(secret) < 32 {
		return nil, &dataward.ValidationError{Package: "breach", Problems: []dataward.Problem{{Field: "secret", Message: "must be at least 32 bytes"}}}
	}
	var o WebhookOptions
	if opts != nil {
		o = *opts
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 200 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 10 * time.Second
	}
	o.Clock = dataward.ClockOrSystem(o.Clock)
	return &WebhookNotifier{secret: bytes.Clone(secret), o: o}, nil
}

// Sign returns the signature header value of body signed at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver posts m and returns the status line and attempt as proof.
func (n *WebhookNotifier) Deliver(ctx context.Context, m Message) (string, error) {
	u, err := url.Parse(m.To.Address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", permanent("webhook: the address of recipient %q is not an http(s) URL", m.To.Subject)
	}
	body, err := json.Marshal(WebhookPayload{ID: m.ID, Incident: m.Incident, Regime: m.Regime, Party: m.Party, Phase: m.Phase,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Recipient: m.To.Subject})
	if err != nil {
		return "", err
	}
	var last error
	for attempt := 1; attempt <= n.o.MaxAttempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, backoff(attempt-1, n.o.BaseDelay, n.o.MaxDelay)); err != nil {
				return "", err
			}
		}
		status, err := n.post(ctx, u.String(), m.ID, body)
		switch {
		case err == nil && status/100 == 2:
			return fmt.Sprintf("%d after %d attempt(s)", status, attempt), nil
		case err != nil:
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			last = err
		case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
			last = fmt.Errorf("status %d", status)
		default:
			return "", permanent("webhook: the receiver refused delivery %s with status %d", m.ID, status)
		}
	}
	return "", fmt.Errorf("breach: webhook: delivery %s failed after %d attempts: %w", m.ID, n.o.MaxAttempts, last)
}

func (n *WebhookNotifier) post(ctx context.Context, u, id string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	now := n.o.Clock.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(n.secret, now, body))
	req.Header.Set(HeaderIdempotency, id)
	resp, err := n.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the recipient's address: keep it out
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// backoff returns the delay before retry number n (from 1): a random
// duration up to base·2^(n-1), capped at max ("full jitter").
func backoff(n int, base, max time.Duration) time.Duration {
	d := base << (n - 1)
	if d > max || d <= 0 {
		d = max
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Errors of [WebhookVerifier.Verify].
var (
	ErrBadSignature = errors.New("breach: webhook: bad signature")
	ErrStale        = errors.New("breach: webhook: timestamp outside the tolerance")
	ErrReplay       = errors.New("breach: webhook: replayed delivery")
)

// WebhookVerifier is the receiver's side of a webhook: it checks the
// signature and the timestamp of a request and rejects a delivery whose
// idempotency key it has accepted before (a replay, or a retry of one it
// already has). It remembers keys for twice the tolerance. It is safe for
// concurrent use.
type WebhookVerifier struct {
	secret    []byte
	tolerance time.Duration
	clock     dataward.Clock
	mu        sync.Mutex
	seen      map[string]time.Time
}

// NewWebhookVerifier returns a verifier for secret accepting timestamps
// within tolerance of its clock (nil: the system clock; tolerance 0: 5
// minutes).
func NewWebhookVerifier(secret []byte, tolerance time.Duration, clock dataward.Clock) *WebhookVerifier {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	return &WebhookVerifier{secret: bytes.Clone(secret), tolerance: tolerance, clock: dataward.ClockOrSystem(clock), seen: map[string]time.Time{}}
}

// Verify reads r's body and returns the payload if the signature is good
// (ErrBadSignature otherwise), the timestamp within the tolerance
// (ErrStale), and the idempotency key new (ErrReplay). A delivery is
// remembered only once it has verified.
func (v *WebhookVerifier) Verify(r *http.Request) (WebhookPayload, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return WebhookPayload{}, fmt.Errorf("breach: webhook: read body: %w", err)
	}
	secs, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return WebhookPayload{}, ErrBadSignature
	}
	ts := time.Unix(secs, 0)
	if !hmac.Equal([]byte(r.Header.Get(HeaderSignature)), []byte(Sign(v.secret, ts, body))) {
		return WebhookPayload{}, ErrBadSignature
	}
	now := v.clock.Now()
	if d := now.Sub(ts); d > v.tolerance || d < -v.tolerance {
		return WebhookPayload{}, ErrStale
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return WebhookPayload{}, fmt.Errorf("breach: webhook: bad payload: %w", err)
	}
	key := r.Header.Get(HeaderIdempotency)
	if key == "" || key != p.ID {
		return WebhookPayload{}, ErrBadSignature
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, at := range v.seen {
		if now.Sub(at) > 2*v.tolerance {
			delete(v.seen, k)
		}
	}
	if _, ok := v.seen[key]; ok {
		return WebhookPayload{}, ErrReplay
	}
	v.seen[key] = now
	return p, nil
}

// Handler returns an http.Handler that verifies each request and passes
// its payload to accept; it answers 401 to a bad signature or stale
// timestamp, 200 to a replay (the sender may stop retrying: the delivery
// was had), and 500 if accept fails.
func (v *WebhookVerifier) Handler(accept func(context.Context, WebhookPayload) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Verify(r)
		switch {
		case errors.Is(err, ErrReplay):
			w.WriteHeader(http.StatusOK)
		case err != nil:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		default:
			if err := accept(r.Context(), p); err != nil {
				v.forget(p.ID)
				http.Error(w, "not accepted", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

func (v *WebhookVerifier) forget(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen, key)
}
