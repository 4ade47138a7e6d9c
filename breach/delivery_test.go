package breach_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/internal/smtptest"
)

func startSMTP(t testing.TB) *smtptest.Server {
	t.Helper()
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func smtpNotifier(t testing.TB, srv *smtptest.Server) *breach.SMTPNotifier {
	t.Helper()
	n, err := breach.NewSMTPNotifier(srv.Addr, "breach@acme.example", &breach.SMTPOptions{
		Auth: smtp.PlainAuth("", srv.User, srv.Password, "127.0.0.1"), TLS: srv.TLS,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func message(id, addr string) breach.Message {
	return breach.Message{ID: id, Incident: "inc-1", Regime: "popia", Party: breach.Subjects, Phase: "initial",
		To: breach.Recipient{Subject: "cust-1", Channel: "email", Address: addr}, Subject: "Kennisgewing — ‘breach’",
		Text: "Line one\nWhat you can do: ümlaut", HTML: "<p>Line one</p>"}
}

// TestSMTPNotifier: a delivery over STARTTLS with authentication reaches
// the loopback server as multipart text and HTML with the delivery ID as
// Message-ID; the server's reply is the proof; connections are reused; a
// malformed or refused address is a permanent failure whose error does not
// hold the address.
func TestSMTPNotifier(t *testing.T) {
	srv := startSMTP(t)
	srv.KeepData = true
	srv.Reject["gone@example.com"] = true
	n := smtpNotifier(t, srv)
	ctx := context.Background()

	proof, err := n.Deliver(ctx, message("d-1", "jane@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "250 2.0.0 ok queued as q1", proof)
	_, err = n.Deliver(ctx, message("d-2", "john@example.com"))
	require.NoError(t, err)
	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, []string{"jane@example.com"}, msgs[0].To)
	assert.Equal(t, "d-1@dataward", msgs[0].MessageID)
	data := string(msgs[0].Data)
	for _, want := range []string{"Content-Type: multipart/alternative", "text/plain; charset=utf-8", "text/html; charset=utf-8",
		"Subject: =?utf-8?q?", "What you can do: =C3=BCmlaut"} {
		assert.Contains(t, data, want)
	}

	for _, addr := range []string{"not an address", "gone@example.com", "x@y\r\nBcc: evil@example.com"} {
		_, err = n.Deliver(ctx, message("d-3", addr))
		assert.ErrorIs(t, err, breach.ErrPermanent, addr)
		assert.NotContains(t, err.Error(), "gone@", "errors hold no address")
	}
	_, err = n.Deliver(ctx, message("d-4", "after@example.com"))
	require.NoError(t, err, "the connection survives a refused recipient")
	assert.Equal(t, 3, srv.Count())

	bad, err := breach.NewSMTPNotifier(srv.Addr, "breach@acme.example", &breach.SMTPOptions{
		Auth: smtp.PlainAuth("", srv.User, "wrong", "127.0.0.1"), TLS: srv.TLS})
	require.NoError(t, err)
	_, err = bad.Deliver(ctx, message("d-5", "jane@example.com"))
	assert.ErrorContains(t, err, "auth")
	assert.NotErrorIs(t, err, breach.ErrPermanent, "a server-side problem is retried")

	_, err = breach.NewSMTPNotifier("no-port", "not-an-address", nil)
	assert.ErrorContains(t, err, "addr is not host:port; from is not an e-mail address")
}

// webhookReceiver is an httptest server verifying deliveries; fail makes
// it answer the first requests with that status.
type webhookReceiver struct {
	*httptest.Server
	v        *breach.WebhookVerifier
	mu       sync.Mutex
	got      []breach.WebhookPayload
	requests atomic.Int32
	fail     []int
}

func newReceiver(t *testing.T, secret []byte, fail ...int) *webhookReceiver {
	r := &webhookReceiver{v: breach.NewWebhookVerifier(secret, time.Minute, nil), fail: fail}
	h := r.v.Handler(func(_ context.Context, p breach.WebhookPayload) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, p)
		return nil
	})
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if k := int(r.requests.Add(1)); k <= len(r.fail) {
			w.WriteHeader(r.fail[k-1])
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

var secret = bytes.Repeat([]byte("k"), 32)

// TestWebhookNotifier: a signed delivery is verified and accepted; 5xx and
// 429 are retried with backoff until it succeeds; a 4xx is permanent; an
// address that is not a URL is permanent.
func TestWebhookNotifier(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t, secret, 503, 429)
	n, err := breach.NewWebhookNotifier(secret, &breach.WebhookOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	require.NoError(t, err)
	m := message("d-1", rcv.URL+"/hook")
	m.To.Channel = "webhook"
	proof, err := n.Deliver(ctx, m)
	require.NoError(t, err)
	assert.Equal(t, "204 after 3 attempt(s)", proof)
	require.Len(t, rcv.got, 1)
	assert.Equal(t, "d-1", rcv.got[0].ID)
	assert.Equal(t, dataward.SubjectID("cust-1"), rcv.got[0].Recipient)

	_, err = n.Deliver(ctx, m)
	require.NoError(t, err, "a receiver answers 200 to a delivery it already has, so the sender stops")
	assert.Len(t, rcv.got, 1, "and does not accept it twice")

	rcv = newReceiver(t, secret, 400)
	m.To.Address = rcv.URL
	_, err = n.Deliver(ctx, m)
	assert.ErrorIs(t, err, breach.ErrPermanent)

	m.To.Address = "mailto:jane@example.com"
	_, err = n.Deliver(ctx, m)
	assert.ErrorIs(t, err, breach.ErrPermanent)
	assert.NotContains(t, err.Error(), "jane")

	_, err = breach.NewWebhookNotifier([]byte("short"), nil)
	assert.ErrorIs(t, err, dataward.ErrInvalid)
}

// TestWebhookVerifier: the receiver rejects a bad signature, a changed
// body, a stale timestamp and a replayed delivery.
func TestWebhookVerifier(t *testing.T) {
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	v := breach.NewWebhookVerifier(secret, 5*time.Minute, dataward.ClockFunc(func() time.Time { return now }))
	body := []byte(`{"id":"d-1","incident":"inc-1"}`)
	req := func(ts time.Time, sig string, body []byte, key string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(breach.HeaderTimestamp, fmt.Sprint(ts.Unix()))
		r.Header.Set(breach.HeaderSignature, sig)
		r.Header.Set(breach.HeaderIdempotency, key)
		return r
	}
	good := breach.Sign(secret, now, body)
	_, err := v.Verify(req(now, breach.Sign([]byte(strings.Repeat("x", 32)), now, body), body, "d-1"))
	assert.ErrorIs(t, err, breach.ErrBadSignature)
	_, err = v.Verify(req(now, good, []byte(`{"id":"d-1","incident":"inc-2"}`), "d-1"))
	assert.ErrorIs(t, err, breach.ErrBadSignature, "a changed body")
	_, err = v.Verify(req(now.Add(-time.Second), good, body, "d-1"))
	assert.ErrorIs(t, err, breach.ErrBadSignature, "a changed timestamp")
	old := now.Add(-6 * time.Minute)
	_, err = v.Verify(req(old, breach.Sign(secret, old, body), body, "d-1"))
	assert.ErrorIs(t, err, breach.ErrStale)
	_, err = v.Verify(req(now, good, body, "other"))
	assert.ErrorIs(t, err, breach.ErrBadSignature, "an idempotency key other than the signed ID")

	p, err := v.Verify(req(now, good, body, "d-1"))
	require.NoError(t, err)
	assert.Equal(t, "inc-1", p.Incident)
	_, err = v.Verify(req(now, good, body, "d-1"))
	assert.ErrorIs(t, err, breach.ErrReplay)
}

// TestLogNotifier: one JSON line per message, the address masked.
func TestLogNotifier(t *testing.T) {
	var buf bytes.Buffer
	n := breach.NewLogNotifier(&buf, dataward.ClockFunc(func() time.Time { return aware }))
	m := message("d-1", "jane.doe@example.com")
	_, err := n.Deliver(context.Background(), m)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"address":"j***@example.com"`)
	assert.NotContains(t, buf.String(), "jane.doe")
	assert.Equal(t, "email:cust-1 j***@example.com", m.To.String())
}

// recipients streams n e-mail recipients, each twice, and one bad address.
func recipients(n int, bad bool) iter.Seq2[breach.Recipient, error] {
	return func(yield func(breach.Recipient, error) bool) {
		for i := range n {
			r := breach.Recipient{Subject: dataward.SubjectID(fmt.Sprint("cust-", i)), Channel: "email", Address: fmt.Sprintf("user%d@example.com", i)}
			if !yield(r, nil) {
				return
			}
			r.Address = strings.ToUpper(r.Address) // the same person from another store
			if !yield(r, nil) {
				return
			}
		}
		if bad {
			yield(breach.Recipient{Subject: "cust-bad", Channel: "email", Address: "not-an-address"}, nil)
		}
	}
}

func finalNotice(t testing.TB) breach.Notice {
	t.Helper()
	inc := sample()
	inc.ID = "0195f3a0-0000-7000-8000-000000000001"
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware})
	require.NoError(t, err)
	return n
}

// TestOutboxDelivers: recipients are de-duplicated, each is sent exactly
// once through the loopback SMTP server even if the notice is enqueued
// twice, a bad address is recorded as a failed delivery with its receipt,
// and every receipt is in the audit log without the address.
func TestOutboxDelivers(t *testing.T) {
	srv := startSMTP(t)
	store := breach.NewMemStore()
	auditStore := audit.NewMemStore()
	alog, err := audit.New(auditStore, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	ob, err := breach.NewOutbox(store, map[string]breach.Notifier{"email": smtpNotifier(t, srv)}, &breach.OutboxOptions{Workers: 4, Audit: alog})
	require.NoError(t, err)
	ctx := context.Background()
	n := finalNotice(t)
	res, err := ob.Enqueue(ctx, n, "initial", recipients(50, true))
	require.NoError(t, err)
	assert.Equal(t, breach.EnqueueResult{Enqueued: 51, Duplicates: 50}, res, "each recipient came twice")
	res, err = ob.Enqueue(ctx, n, "initial", recipients(50, true))
	require.NoError(t, err)
	assert.Equal(t, breach.EnqueueResult{Duplicates: 101}, res)
	require.NoError(t, ob.Drain(ctx))

	assert.Equal(t, 50, srv.Count())
	for addr, k := range srv.ByRecipient() {
		assert.Equal(t, 1, k, addr)
	}
	ds, err := ob.Deliveries(ctx, n.Incident)
	require.NoError(t, err)
	require.Len(t, ds, 51)
	proof, err := ob.Proof(ctx, n.Incident)
	require.NoError(t, err)
	require.Len(t, proof, 51)
	failed := 0
	for _, d := range ds {
		if d.To.Subject == "cust-bad" {
			assert.Equal(t, breach.Failed, d.State)
			failed++
			continue
		}
		assert.Equal(t, breach.Delivered, d.State)
	}
	assert.Equal(t, 1, failed)
	for _, r := range proof {
		assert.Equal(t, "email", r.Channel)
		assert.Equal(t, 1, r.Attempt)
		if r.Subject == "cust-bad" {
			assert.False(t, r.OK)
			assert.Contains(t, r.Detail, "not an e-mail address")
		} else {
			assert.True(t, r.OK)
			assert.True(t, strings.HasPrefix(r.Detail, "250 "), r.Detail)
		}
	}

	// Phase 2 is a new notice to the same recipients.
	res, err = ob.Enqueue(ctx, n, "update-1", recipients(50, false))
	require.NoError(t, err)
	assert.Equal(t, 50, res.Enqueued)

	require.NoError(t, alog.Close(ctx))
	entries, err := auditStore.ReadEntries(ctx, 0, 100)
	require.NoError(t, err)
	require.Len(t, entries, 51, "one audit event per receipt")
	outcomes := map[string]int{}
	for _, e := range entries {
		assert.Equal(t, "breach.delivery", e.Action)
		assert.False(t, bytes.Contains(e.Data, []byte("@example.com")), "no address in the audit log")
		assert.False(t, bytes.Contains(e.Data, []byte("not-an-address")), "no address in the audit log")
		outcomes[string(e.Outcome)]++
	}
	assert.Equal(t, map[string]int{"success": 50, "failure": 1}, outcomes)
	_, err = ob.Enqueue(ctx, breach.Notice{Incident: "x", Final: false}, "initial", recipients(1, false))
	assert.ErrorContains(t, err, "draft")
}

// TestOutboxConcurrencyAndRetry: no more deliveries are in flight than
// Workers; a failure is retried at its backoff time with the same ID until
// it succeeds; a delivery that runs out of attempts fails.
func TestOutboxConcurrencyAndRetry(t *testing.T) {
	c := &clock{aware}
	var inflight, peak atomic.Int32
	var mu sync.Mutex
	calls := map[string][]string{}
	notifier := breach.NotifierFunc(func(ctx context.Context, m breach.Message) (string, error) {
		k := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); k > p && !peak.CompareAndSwap(p, k); p = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		calls[string(m.To.Subject)] = append(calls[string(m.To.Subject)], m.ID)
		if m.To.Subject == "cust-1" && len(calls["cust-1"]) < 3 || m.To.Subject == "cust-2" {
			return "", fmt.Errorf("temporary")
		}
		return "ok", nil
	})
	store := breach.NewMemStore()
	ob, err := breach.NewOutbox(store, map[string]breach.Notifier{"email": notifier},
		&breach.OutboxOptions{Clock: c, Workers: 3, MaxAttempts: 3, RetryBase: time.Minute, RetryMax: time.Minute})
	require.NoError(t, err)
	ctx := context.Background()
	n := finalNotice(t)
	_, err = ob.Enqueue(ctx, n, "initial", recipients(40, false))
	require.NoError(t, err)
	require.NoError(t, ob.Drain(ctx))
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Len(t, calls["cust-1"], 1, "the retry waits for its time")
	for range 2 {
		c.t = c.t.Add(2 * time.Minute)
		require.NoError(t, ob.Drain(ctx))
	}
	assert.Len(t, calls["cust-1"], 3)
	assert.Equal(t, calls["cust-1"][0], calls["cust-1"][2], "every attempt carries the same ID")
	ds, err := ob.Deliveries(ctx, n.Incident)
	require.NoError(t, err)
	states := map[breach.DeliveryState]int{}
	for _, d := range ds {
		states[d.State]++
	}
	assert.Equal(t, map[breach.DeliveryState]int{breach.Delivered: 39, breach.Failed: 1}, states)
	assert.Len(t, calls["cust-2"], 3, "out of attempts after 3")
}

// TestOutboxResumesAfterCrash: a worker that dies holding leases loses
// nothing: once the leases end, another delivers what it held, and what
// it finished is not sent again.
func TestOutboxResumesAfterCrash(t *testing.T) {
	c := &clock{aware}
	store := breach.NewMemStore()
	var mu sync.Mutex
	sent := map[string]int{}
	ctx, crash := context.WithCancel(context.Background())
	k := 0
	dying := breach.NotifierFunc(func(cctx context.Context, m breach.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if k++; k > 10 {
			crash()
			return "", cctx.Err()
		}
		sent[string(m.To.Subject)]++
		return "ok", nil
	})
	ob, err := breach.NewOutbox(store, map[string]breach.Notifier{"email": dying}, &breach.OutboxOptions{Clock: c, Workers: 1, Owner: "a", Lease: time.Minute})
	require.NoError(t, err)
	n := finalNotice(t)
	_, err = ob.Enqueue(context.Background(), n, "initial", recipients(30, false))
	require.NoError(t, err)
	assert.ErrorIs(t, ob.Run(ctx), context.Canceled)
	require.Len(t, sent, 10)

	healthy := breach.NotifierFunc(func(_ context.Context, m breach.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		sent[string(m.To.Subject)]++
		return "ok", nil
	})
	ob2, err := breach.NewOutbox(store, map[string]breach.Notifier{"email": healthy}, &breach.OutboxOptions{Clock: c, Owner: "b"})
	require.NoError(t, err)
	require.NoError(t, ob2.Drain(context.Background()))
	ds, err := ob2.Deliveries(context.Background(), n.Incident)
	require.NoError(t, err)
	held := 0
	for _, d := range ds {
		if d.State == breach.Pending {
			assert.Equal(t, "a", d.LeaseOwner)
			held++
		}
	}
	assert.Positive(t, held, "the dead worker held leases")
	assert.Len(t, sent, 30-held, "which still hold")
	c.t = c.t.Add(2 * time.Minute)
	require.NoError(t, ob2.Drain(context.Background()))
	assert.Len(t, sent, 30)
	for s, k := range sent {
		assert.Equal(t, 1, k, s)
	}
}

// TestOutboxLeaseRunsOutInFlight: a delivery whose lease runs out while it
// is being sent (a slow server) is claimed again by the same Outbox, which
// does not send it a second time.
func TestOutboxLeaseRunsOutInFlight(t *testing.T) {
	var mu sync.Mutex
	now := aware
	c := dataward.ClockFunc(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	sent := map[string]int{}
	slow := breach.NotifierFunc(func(_ context.Context, m breach.Message) (string, error) {
		mu.Lock()
		now = now.Add(2 * time.Minute) // every send outlasts the lease
		sent[string(m.To.Subject)]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		return "ok", nil
	})
	ob, err := breach.NewOutbox(breach.NewMemStore(), map[string]breach.Notifier{"email": slow}, &breach.OutboxOptions{Clock: c, Workers: 2, Lease: time.Minute})
	require.NoError(t, err)
	_, err = ob.Enqueue(context.Background(), finalNotice(t), "initial", recipients(20, false))
	require.NoError(t, err)
	require.NoError(t, ob.Drain(context.Background()))
	require.Len(t, sent, 20)
	for s, k := range sent {
		assert.Equal(t, 1, k, s)
	}
}

// TestOutboxRate: deliveries start no faster than the rate. (A lower
// bound only: a slow machine makes it longer, never shorter.)
func TestOutboxRate(t *testing.T) {
	var k atomic.Int32
	count := breach.NotifierFunc(func(context.Context, breach.Message) (string, error) { k.Add(1); return "ok", nil })
	ob, err := breach.NewOutbox(breach.NewMemStore(), map[string]breach.Notifier{"email": count}, &breach.OutboxOptions{Workers: 8, Rate: 100})
	require.NoError(t, err)
	_, err = ob.Enqueue(context.Background(), finalNotice(t), "initial", recipients(21, false))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, ob.Drain(context.Background()))
	assert.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond, "21 starts at 100/s span at least 20 intervals")
	assert.Equal(t, int32(21), k.Load())
}
