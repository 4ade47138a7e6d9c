package consent_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"bytes"
	"mime/multipart"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

func TestDoubleOptIn(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	req, tok, err := f.l.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1", Jurisdiction: "DE"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Requested, req.Kind)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonPending}, allowed(t, f.l, "u1", email))

	rec, err := f.l.Confirm(ctx, tok, consent.Evidence{IP: "192.0.2.9"})
	require.NoError(t, err)
	assert.Equal(t, consent.Given, rec.Kind)
	assert.Equal(t, consent.MethodDoubleOptIn, rec.Method)
	assert.Equal(t, noticeV1.Ref(), rec.Notice)
	assert.Equal(t, "DE", rec.Jurisdiction)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)

	_, err = f.l.Confirm(ctx, tok, consent.Evidence{})
	require.ErrorIs(t, err, consent.ErrTokenUsed)
	h, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, h, 2, "a reused token records nothing")
}

func TestBadTokensRecordNothing(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, tok, err := f.l.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)

	other := newLedger(t, &consent.Options{TokenKey: []byte("another-key-another-key-another-k")})
	_, foreign, err := other.l.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	otherTenant := newLedger(t, &consent.Options{Tenant: "t2"})
	_, tenantTok, err := otherTenant.l.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	unsub, err := f.l.UnsubscribeToken("u1", email)
	require.NoError(t, err)

	flipped := append([]byte(nil), raw...)
	flipped[12] ^= 1 // inside the subject
	bad := map[string]string{
		"empty":           "",
		"not base64":      "%%%",
		"short":           base64.RawURLEncoding.EncodeToString(raw[:10]),
		"flipped payload": base64.RawURLEncoding.EncodeToString(flipped),
		"truncated mac":   base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		"other key":       foreign,
		"other tenant":    tenantTok,
		"other use":       unsub,
		"huge":            strings.Repeat("A", 5000),
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := f.l.Confirm(ctx, tok, consent.Evidence{})
			require.ErrorIs(t, err, consent.ErrTokenInvalid)
		})
	}
	f.clock.Add(72 * time.Hour)
	_, err = f.l.Confirm(ctx, tok, consent.Evidence{})
	require.ErrorIs(t, err, consent.ErrTokenExpired)
	h, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, consent.Requested, h[0].Kind, "only the request is on record")

	noKey, err := consent.New(consent.NewMemStore(), nil)
	require.NoError(t, err)
	require.NoError(t, noKey.Register(purposes()...))
	_, _, err = noKey.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1"}))
	require.ErrorIs(t, err, consent.ErrNoTokenKey)
}

func TestPendingDoesNotRevokeStandingConsent(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	_, _, err = f.l.RequestConfirmation(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)
}

func TestOneClickUnsubscribe(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	srv := httptest.NewServer(f.l.UnsubscribeHandler())
	defer srv.Close()

	h, err := f.l.UnsubscribeHeaders(srv.URL+"/unsubscribe?list=weekly", "u1", email)
	require.NoError(t, err)
	assert.Equal(t, "List-Unsubscribe=One-Click", h["List-Unsubscribe-Post"])
	link := strings.TrimSuffix(strings.TrimPrefix(h["List-Unsubscribe"], "<"), ">")
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, "weekly", u.Query().Get("list"), "the base URL's query is kept")

	// A GET (a mail scanner following the link) changes nothing.
	resp, err := http.Get(link)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `<form method="post">`)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)

	// The RFC 8058 POST unsubscribes, and again is harmless.
	for range 2 {
		resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, consent.ReasonWithdrawn, allowed(t, f.l, "u1", email).Reason)
	hist, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, consent.MethodUnsubscribe, hist[1].Method)

	// A POST without the one-click body, a forged token, an expired one.
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("x=y"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Post(srv.URL+"/?t=forged", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.NotContains(t, string(body), "forged", "the page never echoes the token")
	f.clock.Add(401 * 24 * time.Hour)
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusGone, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodDelete, link, nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	_, err = f.l.UnsubscribeHeaders("not a url", "u1", email)
	require.Error(t, err)
	_, err = f.l.UnsubscribeHeaders(srv.URL, "u1", "marketing.unknown")
	require.ErrorIs(t, err, consent.ErrUnknownPurpose)
}

func TestUnsubscribeFromEverything(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := f.l.UnsubscribeToken("u1", "")
	require.NoError(t, err)
	recs, err := f.l.Unsubscribe(ctx, tok, consent.Evidence{})
	require.NoError(t, err)
	assert.Len(t, recs, 3)
	for _, p := range []string{email, analytics, ads} {
		assert.False(t, allowed(t, f.l, "u1", p).Allowed)
	}
}

func TestGPC(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	var errs []error
	h := consent.GPC(f.l, consent.GPCOptions{
		Subject: func(r *http.Request) (dataward.SubjectID, bool) {
			s := r.Header.Get("X-User")
			return dataward.SubjectID(s), s != ""
		},
		OnError: func(_ *http.Request, err error) { errs = append(errs, err) },
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func(user string, gpc bool) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-User", user)
		if gpc {
			r.Header.Set("Sec-GPC", "1")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	history := func(s string) []consent.Record {
		h, err := f.l.History(ctx, dataward.SubjectID(s))
		require.NoError(t, err)
		return h
	}

	serve("u1", false)
	assert.Empty(t, history("u1"), "no signal, nothing recorded")
	assert.True(t, allowed(t, f.l, "u1", ads).Allowed)

	serve("u1", true)
	serve("u1", true)
	hist := history("u1")
	require.Len(t, hist, 1, "one opt-out however many requests")
	assert.Equal(t, consent.Withdrawn, hist[0].Kind)
	assert.Equal(t, consent.MethodGPC, hist[0].Method)
	assert.Equal(t, ads, hist[0].Purpose)
	assert.False(t, allowed(t, f.l, "u1", ads).Allowed)
	assert.True(t, allowed(t, f.l, "u1", analytics).Allowed, "purposes not flagged GPC are untouched")

	// The person then opts in explicitly: later signals do not override it,
	// and the conflict is recorded once.
	_, err := f.l.Give(ctx, consent.Choice{Subject: "u1", Purpose: ads})
	require.NoError(t, err)
	serve("u1", true)
	serve("u1", true)
	hist = history("u1")
	require.Len(t, hist, 3)
	assert.Equal(t, consent.Signal, hist[2].Kind)
	assert.Equal(t, consent.GPCConflictNote, hist[2].Note)
	assert.True(t, allowed(t, f.l, "u1", ads).Allowed)

	// Consent given before any signal is opted out by the first signal.
	_, err = f.l.Give(ctx, consent.Choice{Subject: "u2", Purpose: ads})
	require.NoError(t, err)
	serve("u2", true)
	assert.False(t, allowed(t, f.l, "u2", ads).Allowed)
	assert.Empty(t, errs)
}

// TestLongUserAgentStillUnsubscribes: the evidence a handler takes from a
// request is the client's to choose; a user agent longer than a Choice
// accepts must not stop the person from unsubscribing, confirming, or
// having their GPC signal honoured.
func TestLongUserAgentStillUnsubscribes(t *testing.T) {
	f, tok := subscribed(t)
	ua := strings.Repeat("Mozilla/5.0 ", 200) // 2,400 bytes

	req := httptest.NewRequest(http.MethodPost, "/u?t="+tok, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", ua)
	w := httptest.NewRecorder()
	f.l.UnsubscribeHandler().ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, consent.ReasonWithdrawn, allowed(t, f.l, "u1", email).Reason)

	// The GPC middleware too.
	var gpcErr error
	h := consent.GPC(f.l, consent.GPCOptions{
		Subject: func(*http.Request) (dataward.SubjectID, bool) { return "u2", true },
		OnError: func(_ *http.Request, err error) { gpcErr = err },
	})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Sec-GPC", "1")
	req.Header.Set("User-Agent", ua)
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.NoError(t, gpcErr)
	assert.Equal(t, consent.ReasonWithdrawn, allowed(t, f.l, "u2", ads).Reason)
}

// TestOneClickUnsubscribeMultipart: RFC 8058 says the one-click POST
// SHOULD be sent as multipart/form-data (and MAY be sent urlencoded).
func TestOneClickUnsubscribeMultipart(t *testing.T) {
	f, tok := subscribed(t)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("List-Unsubscribe", "One-Click"))
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/u?t="+tok, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	f.l.UnsubscribeHandler().ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, consent.ReasonWithdrawn, allowed(t, f.l, "u1", email).Reason)
}

// subscribed returns a ledger in which u1 gave consent to email, and the
// link token that unsubscribes u1 from it.
func subscribed(t *testing.T) (fixture, string) {
	t.Helper()
	f := newLedger(t, nil)
	_, err := f.l.Give(context.Background(), give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := f.l.UnsubscribeToken("u1", email)
	require.NoError(t, err)
	return f, tok
}
