package consent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// TestLongUserAgentStillUnsubscribes: the evidence a handler takes from a
// request is the client's to choose; a user agent longer than a Choice
// accepts must not stop the person from unsubscribing, confirming, or
// having their GPC signal honoured.
func TestLongUserAgentStillUnsubscribes(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := f.l.UnsubscribeToken("u1", email)
	require.NoError(t, err)
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
