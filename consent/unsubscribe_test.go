package consent_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
)

// TestOneClickUnsubscribeMultipart: RFC 8058 says the one-click POST
// SHOULD be sent as multipart/form-data (and MAY be sent urlencoded).
func TestOneClickUnsubscribeMultipart(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := f.l.UnsubscribeToken("u1", email)
	require.NoError(t, err)

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
