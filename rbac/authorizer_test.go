package rbac_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var march = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func crmPolicy(t testing.TB) *rbac.Policy {
	t.Helper()
	p, err := rbac.LoadFile("testdata/crm.yaml")
	require.NoError(t, err)
	return p
}

func newCRM(t testing.TB, opts *rbac.Options) *rbac.Authorizer {
	t.Helper()
	if opts == nil {
		opts = &rbac.Options{Clock: &clock{march}}
	}
	a, err := rbac.New(crmPolicy(t), opts)
	require.NoError(t, err)
	return a
}

func user(tenant, id string) dataward.Actor {
	return dataward.Actor{ID: id, Tenant: tenant, Kind: dataward.ActorUser}
}

// TestCheck runs the rules of the model over the CRM policy: deny by
// default, inheritance, wildcards, deny overriding allow, tenants, time.
func TestCheck(t *testing.T) {
	a := newCRM(t, nil)
	ctx := context.Background()
	tests := []struct {
		actor            dataward.Actor
		action, resource string
		allowed          bool
		reason           rbac.Reason
		rule             string
		path             []string
	}{
		{user("acme", "ann"), "update", "ticket", true, rbac.ReasonAllowed, "allow update ticket (role support-agent)", []string{"support-agent"}},
		{user("acme", "ann"), "read", "customer", true, rbac.ReasonAllowed, "allow read customer (role viewer)", []string{"support-agent", "viewer"}},
		{user("acme", "ann"), "delete", "customer", false, rbac.ReasonNoRule, "", nil},
		{user("acme", "ann"), "reveal", "contact.email", false, rbac.ReasonNoRule, "", nil},
		{user("acme", "max"), "update", "customer", true, rbac.ReasonAllowed, "allow * customer (role manager)", []string{"manager"}},
		{user("acme", "max"), "read", "customer", true, rbac.ReasonAllowed, "allow read customer (role viewer)", []string{"manager", "support-agent", "viewer"}},
		{user("acme", "max"), "delete", "customer", false, rbac.ReasonDenied, "deny delete customer (role manager)", []string{"manager"}},
		{user("acme", "max"), "reveal", "contact.email", true, rbac.ReasonAllowed, "allow reveal contact.* (role manager)", []string{"manager"}},
		{user("acme", "max"), "reveal", "contact.phone.mobile", true, rbac.ReasonAllowed, "allow reveal contact.* (role manager)", []string{"manager"}},
		{user("acme", "max"), "reveal", "contact", false, rbac.ReasonNoRule, "", nil},
		{user("acme", "max"), "reveal", "health.record", false, rbac.ReasonNoRule, "", nil},
		// A deny of one role overrides the allow of another.
		{user("acme", "aud"), "read", "invoice", true, rbac.ReasonAllowed, "allow read * (role auditor)", []string{"auditor"}},
		{user("acme", "aud"), "read", "contact.email", false, rbac.ReasonDenied, "deny * contact.* (role auditor)", []string{"auditor"}},
		{user("acme", "aud"), "read", "customer", true, rbac.ReasonAllowed, "", nil},
		// Tenant roles, and tenants kept apart.
		{user("acme", "bob"), "export", "invoice", true, rbac.ReasonAllowed, "allow export invoice (role acme-billing)", []string{"acme-billing"}},
		{user("globex", "bob"), "export", "invoice", false, rbac.ReasonNoRoles, "", nil},
		{user("globex", "ann"), "update", "ticket", false, rbac.ReasonNoRule, "", nil},
		{user("", "ann"), "read", "customer", false, rbac.ReasonNoRoles, "", nil},
		// Wildcards, and a deny of another role the user holds.
		{user("globex", "root"), "export", "anything.at.all", true, rbac.ReasonAllowed, "allow * * (role admin)", []string{"admin"}},
		{user("globex", "root"), "delete", "customer", false, rbac.ReasonDenied, "deny delete customer (role manager)", []string{"manager"}},
		// Time-bound assignment: in force in March.
		{user("acme", "tmp"), "update", "customer", true, rbac.ReasonAllowed, "allow * customer (role manager)", []string{"manager"}},
		// Bad input: denied with a reason.
		{user("globex", "root"), "raed", "customer", false, rbac.ReasonUnknownAction, "", nil},
		{user("globex", "root"), "", "customer", false, rbac.ReasonUnknownAction, "", nil},
		{user("globex", "root"), "read", "", false, rbac.ReasonBadRequest, "", nil},
		{dataward.Actor{}, "read", "customer", false, rbac.ReasonNoActor, "", nil},
		{dataward.Actor{Tenant: "acme"}, "read", "customer", false, rbac.ReasonNoActor, "", nil},
		// Roles the host established for the request.
		{dataward.Actor{Kind: dataward.ActorService, Tenant: "acme", Roles: []string{"viewer", "nosuchrole"}}, "read", "customer", true, rbac.ReasonAllowed, "allow read customer (role viewer)", []string{"viewer"}},
		{dataward.Actor{ID: "ann", Tenant: "acme", Roles: []string{"auditor"}}, "read", "contact.email", false, rbac.ReasonDenied, "deny * contact.* (role auditor)", []string{"auditor"}},
		// A break-glass role cannot be claimed through the actor's roles.
		{dataward.Actor{ID: "ann", Tenant: "acme", Roles: []string{"emergency"}}, "reveal", "contact.email", false, rbac.ReasonNoRule, "", nil},
	}
	for _, tc := range tests {
		name := tc.actor.Tenant + "/" + tc.actor.ID + "/" + tc.action + "/" + tc.resource
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.allowed, a.Check(ctx, tc.actor, tc.action, tc.resource))
			d := a.Explain(ctx, tc.actor, tc.action, tc.resource)
			assert.Equal(t, tc.allowed, d.Allowed)
			assert.Equal(t, tc.reason, d.Reason)
			assert.Equal(t, tc.actor.Tenant, d.Tenant)
			if tc.rule != "" {
				assert.Equal(t, tc.rule, d.Rule.String())
			}
			if tc.path != nil {
				assert.Equal(t, tc.path, d.Path)
			}
		})
	}
}

// TestCheckActorFromContext: a zero actor means the context's.
func TestCheckActorFromContext(t *testing.T) {
	a := newCRM(t, nil)
	ctx := dataward.WithActor(context.Background(), user("acme", "max"))
	assert.True(t, a.Check(ctx, dataward.Actor{}, "update", "customer"))
	assert.True(t, a.MayReveal(ctx, "contact.email"))
	// A given actor wins over the context's.
	assert.False(t, a.Check(ctx, user("acme", "ann"), "update", "customer"))
	assert.False(t, a.MayReveal(context.Background(), "contact.email"))
}

// TestTimeBound: a time-bound assignment starts and ends on its own.
func TestTimeBound(t *testing.T) {
	c := &clock{time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC)}
	a := newCRM(t, &rbac.Options{Clock: c})
	ctx := context.Background()
	tmp := user("acme", "tmp")
	assert.Equal(t, rbac.ReasonNoRoles, a.Explain(ctx, tmp, "read", "customer").Reason)
	c.t = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d := a.Explain(ctx, tmp, "read", "customer")
	assert.True(t, d.Allowed)
	assert.Equal(t, rbac.SourceAssignment, d.Source)
	assert.Equal(t, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), d.Expires)
	c.t = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	assert.False(t, a.Check(ctx, tmp, "read", "customer"))
}

// TestCheckAllocatesNothing, for allow, deny, wildcards and timed holdings.
func TestCheckAllocatesNothing(t *testing.T) {
	a := newCRM(t, nil)
	ctx := dataward.WithActor(context.Background(), user("acme", "max"))
	cases := []struct {
		actor            dataward.Actor
		action, resource string
	}{
		{user("acme", "ann"), "read", "customer"},
		{user("acme", "ann"), "delete", "customer"},
		{user("acme", "aud"), "read", "contact.email"},
		{user("globex", "root"), "export", "a.b.c"},
		{user("acme", "tmp"), "read", "customer"},
		{dataward.Actor{}, "reveal", "contact.email"},
		{dataward.Actor{Tenant: "acme", Roles: []string{"viewer"}}, "read", "customer"},
		{user("acme", "nobody"), "nosuch", "customer"},
	}
	for _, tc := range cases {
		allocs := testing.AllocsPerRun(100, func() { a.Check(ctx, tc.actor, tc.action, tc.resource) })
		assert.Zero(t, allocs, "%+v", tc)
	}
}

// TestReload: a new policy replaces the old as a whole; an invalid one
// changes nothing.
func TestReload(t *testing.T) {
	a := newCRM(t, nil)
	ctx := context.Background()
	ann := user("acme", "ann")
	require.False(t, a.Check(ctx, ann, "delete", "customer"))
	p := crmPolicy(t)
	p.Roles[1].Allow = append(p.Roles[1].Allow, rbac.Permission{Action: "delete", Resource: "customer"})
	require.NoError(t, a.Reload(p))
	assert.True(t, a.Check(ctx, ann, "delete", "customer"))

	bad := crmPolicy(t)
	bad.Roles[0].Inherits = []string{"manager"}
	err := a.Reload(bad)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "forms a cycle")
	assert.True(t, a.Check(ctx, ann, "delete", "customer"), "the policy in force stays")
	require.Error(t, a.Reload(nil))
}

// TestReloadDuringChecks: checks running while the policy is reloaded see
// one policy or the other, never a mixture, and never fail.
func TestReloadDuringChecks(t *testing.T) {
	a := newCRM(t, nil)
	withDelete := crmPolicy(t)
	withDelete.Roles[1].Allow = append(withDelete.Roles[1].Allow, rbac.Permission{Action: "delete", Resource: "customer"})
	without := crmPolicy(t)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			p := without
			if i%2 == 0 {
				p = withDelete
			}
			assert.NoError(t, a.Reload(p))
		}
	}()
	ann := user("acme", "ann")
	for {
		select {
		case <-done:
			return
		default:
		}
		// Under either policy ann reads customers and max never deletes.
		require.True(t, a.Check(ctx, ann, "read", "customer"))
		require.False(t, a.Check(ctx, user("acme", "max"), "delete", "customer"))
	}
}

func TestNewErrors(t *testing.T) {
	_, err := rbac.New(nil, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	_, err = rbac.New(&rbac.Policy{}, &rbac.Options{MaxBreakGlass: -1, PollInterval: -1})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "Options.MaxBreakGlass")
	assert.Contains(t, err.Error(), "Options.PollInterval")
	// An empty policy denies everything.
	a, err := rbac.New(&rbac.Policy{}, nil)
	require.NoError(t, err)
	assert.False(t, a.Check(context.Background(), user("", "x"), "read", "x"))
}

func TestLoadFileErrors(t *testing.T) {
	_, err := rbac.LoadFile("testdata/nosuch.yaml")
	require.ErrorIs(t, err, os.ErrNotExist)
}
