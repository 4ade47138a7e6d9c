package rbac_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/rbac"
)

func newAudit(t testing.TB) *audit.Logger {
	t.Helper()
	l, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

func events(t *testing.T, l *audit.Logger, action string) []audit.StoredEvent {
	t.Helper()
	evs, _, err := l.Query(context.Background(), audit.Query{Action: action})
	require.NoError(t, err)
	return evs
}

// TestGrantRevoke: a runtime grant counts at once, until it expires or is
// revoked; both are audited.
func TestGrantRevoke(t *testing.T) {
	c := &clock{march}
	store := rbac.NewMemStore()
	alog := newAudit(t)
	a := newCRM(t, &rbac.Options{Clock: c, Store: store, Audit: alog})
	ctx := dataward.WithActor(context.Background(), user("acme", "max"))
	eve := user("acme", "eve")
	require.False(t, a.Check(ctx, eve, "read", "ticket"))

	g, err := a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "support-agent", Expires: march.Add(time.Hour), Reason: "covering for ann"})
	require.NoError(t, err)
	assert.NotEmpty(t, g.ID)
	assert.Equal(t, "max", g.GrantedBy)
	assert.Equal(t, march, g.Created)
	assert.True(t, a.Check(ctx, eve, "read", "ticket"))
	d := a.Explain(ctx, eve, "read", "customer")
	assert.Equal(t, rbac.SourceGrant, d.Source)
	assert.Equal(t, g.ID, d.Grant)
	assert.Equal(t, []string{"support-agent", "viewer"}, d.Path)
	assert.Equal(t, march.Add(time.Hour), d.Expires)
	assert.Equal(t, []rbac.Grant{g}, a.Grants())
	stored, err := store.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, []rbac.Grant{g}, stored)

	// It ends on its own.
	c.t = march.Add(time.Hour)
	assert.False(t, a.Check(ctx, eve, "read", "ticket"))
	c.t = march

	require.NoError(t, a.Revoke(ctx, g.ID))
	assert.False(t, a.Check(ctx, eve, "read", "ticket"))
	require.ErrorIs(t, a.Revoke(ctx, g.ID), rbac.ErrNotFound)
	assert.Len(t, events(t, alog, "rbac.grant"), 1)
	assert.Len(t, events(t, alog, "rbac.revoke"), 1)
}

func TestGrantInvalid(t *testing.T) {
	a := newCRM(t, nil)
	ctx := context.Background()
	_, err := a.Grant(ctx, rbac.Grant{Tenant: "globex", User: "", Role: "acme-billing", Expires: march.Add(-time.Hour)})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "Grant.User is empty")
	assert.Contains(t, err.Error(), "Grant.Expires is not in the future")

	_, err = a.Grant(ctx, rbac.Grant{Tenant: "globex", User: "x", Role: "acme-billing"})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), `does not define in tenant "globex"`)

	_, err = a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "x", Role: "emergency"})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "only be taken with BreakGlass")
	assert.Empty(t, a.Grants())
}

// TestGrantOfRemovedRole: after a reload without the role, the grant is
// kept but counts for nothing.
func TestGrantOfRemovedRole(t *testing.T) {
	a := newCRM(t, nil)
	ctx := context.Background()
	_, err := a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "acme-billing"})
	require.NoError(t, err)
	require.True(t, a.Check(ctx, user("acme", "eve"), "export", "invoice"))
	p := crmPolicy(t)
	p.Roles = p.Roles[:5]
	p.Assignments = nil
	require.NoError(t, a.Reload(p))
	assert.False(t, a.Check(ctx, user("acme", "eve"), "export", "invoice"))
	assert.Len(t, a.Grants(), 1)
}

// TestBreakGlass: it needs an audit logger, an actor, a reason and a
// bounded time; it is audited when taken and at every use; it expires.
func TestBreakGlass(t *testing.T) {
	ctx := dataward.WithActor(context.Background(), user("acme", "ann"))
	_, err := newCRM(t, nil).BreakGlass(ctx, "emergency", "customer locked out, ticket 4711", 15*time.Minute)
	require.ErrorIs(t, err, rbac.ErrNoAudit)

	c := &clock{march}
	alog := newAudit(t)
	a := newCRM(t, &rbac.Options{Clock: c, Audit: alog, MaxBreakGlass: 30 * time.Minute})
	_, err = a.BreakGlass(context.Background(), "emergency", "short", time.Hour)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	for _, want := range []string{"actor is required", "reason must state why", "ttl must be more than 0 and at most 30m0s"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = a.BreakGlass(ctx, "manager", "customer locked out, ticket 4711", time.Minute)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "not a break-glass role")

	require.False(t, a.MayReveal(ctx, "contact.email"))
	g, err := a.BreakGlass(ctx, "emergency", "customer locked out, ticket 4711", 15*time.Minute)
	require.NoError(t, err)
	assert.True(t, g.BreakGlass)
	assert.Equal(t, march.Add(15*time.Minute), g.Expires)
	assert.True(t, a.MayReveal(ctx, "contact.email"))
	d := a.Explain(ctx, dataward.Actor{}, "reveal", "contact.email")
	assert.Equal(t, rbac.ReasonBreakGlass, d.Reason)
	assert.Equal(t, rbac.SourceBreakGlass, d.Source)
	// Where another role allows, the decision does not rest on break-glass.
	d = a.Explain(ctx, dataward.Actor{}, "read", "customer")
	assert.Equal(t, rbac.ReasonAllowed, d.Reason)
	assert.Equal(t, rbac.SourceAssignment, d.Source)

	taken := events(t, alog, "rbac.break_glass")
	require.Len(t, taken, 1)
	assert.Equal(t, "customer locked out, ticket 4711", taken[0].Reason)
	assert.Len(t, events(t, alog, "rbac.break_glass.use"), 1) // Explain records none
	a.Check(ctx, dataward.Actor{}, "read", "customer")        // allowed without break-glass
	assert.Len(t, events(t, alog, "rbac.break_glass.use"), 1)

	c.t = march.Add(15 * time.Minute)
	assert.False(t, a.MayReveal(ctx, "contact.email"))
}

// failingStore fails every audit append.
type failingStore struct{ *audit.MemStore }

func (failingStore) Append(context.Context, audit.Batch) error { return errors.New("disk full") }

// TestBreakGlassAuditFails: break-glass whose audit event fails is taken
// back.
func TestBreakGlassAuditFails(t *testing.T) {
	alog, err := audit.New(failingStore{audit.NewMemStore()}, &audit.Options{HashKey: make([]byte, 32), DefaultPolicy: audit.FailClosed})
	require.NoError(t, err)
	store := rbac.NewMemStore()
	a := newCRM(t, &rbac.Options{Clock: &clock{march}, Audit: alog, Store: store})
	ctx := dataward.WithActor(context.Background(), user("acme", "ann"))
	_, err = a.BreakGlass(ctx, "emergency", "customer locked out, ticket 4711", 15*time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "break-glass refused")
	assert.False(t, a.MayReveal(ctx, "contact.email"))
	grants, err := store.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, grants)
}

// TestRunFollowsStore: a second Authorizer sharing the Store sees grants
// and revocations through Run.
func TestRunFollowsStore(t *testing.T) {
	store := rbac.NewMemStore()
	a := newCRM(t, &rbac.Options{Clock: &clock{march}, Store: store})
	b := newCRM(t, &rbac.Options{Clock: &clock{march}, Store: store})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	}()
	eve := user("acme", "eve")
	g, err := a.Grant(context.Background(), rbac.Grant{Tenant: "acme", User: "eve", Role: "viewer"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.Check(ctx, eve, "read", "customer") }, 5*time.Second, time.Millisecond)
	require.NoError(t, a.Revoke(context.Background(), g.ID))
	require.Eventually(t, func() bool { return !b.Check(ctx, eve, "read", "customer") }, 5*time.Second, time.Millisecond)
}

// pollStore hides MemStore's Watch, so that Run polls.
type pollStore struct{ rbac.Store }

func TestRunPolls(t *testing.T) {
	store := rbac.NewMemStore()
	a := newCRM(t, &rbac.Options{Clock: &clock{march}, Store: store})
	b := newCRM(t, &rbac.Options{Clock: &clock{march}, Store: pollStore{store}, PollInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = b.Run(ctx) }()
	_, err := a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "viewer"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.Check(ctx, user("acme", "eve"), "read", "customer") }, 5*time.Second, time.Millisecond)
}

// brokenStore fails List.
type brokenStore struct{ rbac.Store }

func (brokenStore) List(context.Context) ([]rbac.Grant, error) {
	return nil, errors.New("connection lost")
}

func TestRunReportsErrors(t *testing.T) {
	errs := make(chan error, 10)
	a := newCRM(t, &rbac.Options{Store: brokenStore{rbac.NewMemStore()}, OnError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	select {
	case err := <-errs:
		assert.Contains(t, err.Error(), "connection lost")
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not report the failure")
	}
}
