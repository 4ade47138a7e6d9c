package rbac_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/rbac"
)

// TestRequire: allowed requests pass; denied ones get a bare 403 and an
// audit event with the reason code, whatever the reason.
func TestRequire(t *testing.T) {
	alog := newAudit(t)
	a := newCRM(t, &rbac.Options{Clock: &clock{march}, Audit: alog})
	mux := http.NewServeMux()
	mux.Handle("DELETE /customers/{id}", a.Require("delete", "customer")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "deleted")
	})))
	do := func(actor *dataward.Actor) (*http.Response, string) {
		req := httptest.NewRequest(http.MethodDelete, "/customers/jane@example.com", nil)
		if actor != nil {
			req = req.WithContext(dataward.WithActor(req.Context(), *actor))
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Result(), rec.Body.String()
	}
	root := user("globex", "root")
	root.Roles = nil
	admin := dataward.Actor{ID: "ops", Tenant: "acme", Roles: []string{"admin"}}
	resp, body := do(&admin)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "deleted", body)

	denied := []struct {
		actor  *dataward.Actor
		reason rbac.Reason
	}{
		{&root, rbac.ReasonDenied},                    // an explicit deny
		{ptr(user("acme", "ann")), rbac.ReasonNoRule}, // no rule
		{ptr(user("x", "y")), rbac.ReasonNoRoles},
		{nil, rbac.ReasonNoActor},
	}
	for _, tc := range denied {
		resp, body := do(tc.actor)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, "Forbidden\n", body, "the body says nothing of the policy")
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	}
	evs := events(t, alog, "rbac.deny")
	require.Len(t, evs, len(denied))
	for i, e := range evs {
		assert.Equal(t, audit.Denied, e.Outcome)
		assert.Equal(t, string(denied[i].reason), e.Reason)
		assert.Equal(t, "customer", e.Resource.Type)
		for _, m := range e.Metadata {
			assert.NotContains(t, m.Value, "jane", "the path, which holds personal data, is not recorded")
		}
	}
	assert.Contains(t, evs[0].Metadata, audit.Attr{Key: "http.route", Value: "DELETE /customers/{id}"})
	assert.Contains(t, evs[0].Metadata, audit.Attr{Key: "rule", Value: "deny delete customer (role manager)"})
}

// TestRequireWithoutAudit: a nil logger means no audit, not a failure.
func TestRequireWithoutAudit(t *testing.T) {
	a := newCRM(t, nil)
	h := a.Require("read", "customer")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("let through") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(context.Background()))
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

func ptr[T any](v T) *T { return &v }
