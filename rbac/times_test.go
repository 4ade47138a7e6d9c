package rbac_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/rbac"
)

// TestGrantTimesBeyond2262: times are compared as Unix nanoseconds, which
// an int64 holds only from 1678 to 2262; a grant "until 9999" (a common
// "for good") must hold, and one "from 2300" must not hold now.
func TestGrantTimesBeyond2262(t *testing.T) {
	ctx := context.Background()
	a := newCRM(t, nil)
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	_, err := a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "acme-billing", Expires: far})
	require.NoError(t, err)
	assert.True(t, a.Check(ctx, user("acme", "eve"), "export", "invoice"), "a grant until 9999 does not hold")

	_, err = a.Grant(ctx, rbac.Grant{Tenant: "acme", User: "zoe", Role: "acme-billing", NotBefore: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.False(t, a.Check(ctx, user("acme", "zoe"), "export", "invoice"), "a grant from 2300 holds in 2026")

	// The same in a policy's assignments.
	p := crmPolicy(t)
	p.Assignments = append(p.Assignments,
		rbac.Assignment{User: "ivy", Tenant: "acme", Roles: []string{"acme-billing"}, Expires: far},
		rbac.Assignment{User: "joe", Tenant: "acme", Roles: []string{"acme-billing"}, NotBefore: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
		rbac.Assignment{User: "kim", Tenant: "acme", Roles: []string{"acme-billing"}, Expires: time.Unix(0, 0)})
	require.NoError(t, a.Reload(p))
	assert.True(t, a.Check(ctx, user("acme", "ivy"), "export", "invoice"), "an assignment until 9999 does not hold")
	assert.False(t, a.Check(ctx, user("acme", "joe"), "export", "invoice"), "an assignment from 2300 holds in 2026")
	assert.False(t, a.Check(ctx, user("acme", "kim"), "export", "invoice"), "an assignment that expired at the Unix epoch holds for good")
}
