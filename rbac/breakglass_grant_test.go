package rbac_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
)

// TestGrantOfRoleMadeBreakGlass: a role marked break_glass "can be taken
// only with BreakGlass"; a plain runtime grant of it, made before a reload
// marked it so (or by a process with an older policy), must not give it
// unaudited and without a time limit.
func TestGrantOfRoleMadeBreakGlass(t *testing.T) {
	ctx := dataward.WithActor(context.Background(), user("acme", "max"))
	alog := newAudit(t)
	a := newCRM(t, &rbac.Options{Clock: &clock{march}, Audit: alog})
	eve := user("acme", "eve")
	_, err := a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "admin"})
	require.NoError(t, err)
	require.True(t, a.Check(ctx, eve, "reveal", "contact.email"))

	p := crmPolicy(t)
	for i := range p.Roles {
		if p.Roles[i].Name == "admin" {
			p.Roles[i].BreakGlass = true
		}
	}
	p.Assignments = p.Assignments[:4] // root held admin
	require.NoError(t, a.Reload(p))
	d := a.Explain(ctx, eve, "reveal", "contact.email")
	assert.False(t, d.Allowed, "a plain grant still gives the break-glass role: %+v", d)
	assert.False(t, a.Check(ctx, eve, "reveal", "contact.email"))
	assert.Empty(t, events(t, alog, "rbac.break_glass.use"))
}
