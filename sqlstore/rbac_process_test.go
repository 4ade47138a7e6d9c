package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestRBACGrantAcrossProcesses: the
// DSN to grant in.
const rbacGrantChildEnv = "DATAWARD_SQLSTORE_TEST_RBAC_GRANT_DSN"

func rbacPolicy() *rbac.Policy {
	return &rbac.Policy{Roles: []rbac.Role{{Name: "viewer", Allow: []rbac.Permission{{Action: "read", Resource: "customer"}}}}}
}

// TestRBACGrantAcrossProcesses: an Authorizer following the store (Run)
// sees a grant made by another process within one second of its commit
// (on PostgreSQL through LISTEN/NOTIFY, on SQLite by polling), and a
// revocation made here at once.
func TestRBACGrantAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(rbacGrantChildEnv); dsn != "" {
		rbacGrantChild(t, dsn)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		db := open(t, dsn)
		authz, err := rbac.New(rbacPolicy(), &rbac.Options{Store: db.RBACStore()})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- authz.Run(runCtx) }()

		eve := dataward.Actor{ID: "eve", Tenant: "acme"}
		seen := make(chan time.Time, 1)
		go func() {
			for !authz.Check(ctx, eve, "read", "customer") {
				if ctx.Err() != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
			seen <- time.Now()
		}()
		out := raceChildren(ctx, t, "TestRBACGrantAcrossProcesses", 1, rbacGrantChildEnv+"="+dsn)
		require.NotEmpty(t, out[0])
		fields := strings.Fields(out[0][0])
		require.Len(t, fields, 3, out[0][0])
		committed, err := strconv.ParseInt(fields[2], 10, 64)
		require.NoError(t, err)
		var at time.Time
		select {
		case at = <-seen:
		case <-time.After(10 * time.Second):
			t.Fatal("the grant of the other process was not seen within 10 s")
		}
		latency := at.Sub(time.Unix(0, committed))
		t.Logf("%s: a grant committed by another process was seen after %v", b.name, latency)
		assert.Less(t, latency, time.Second)

		require.NoError(t, authz.Revoke(ctx, fields[1]))
		assert.False(t, authz.Check(ctx, eve, "read", "customer"), "a revocation here counts at once")
		stop()
		require.ErrorIs(t, <-ran, context.Canceled)
	})
}

func rbacGrantChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	authz, err := rbac.New(rbacPolicy(), &rbac.Options{Store: db.RBACStore()})
	require.NoError(t, err)
	waitForRelease()
	// Give the parent's watch time to be ready.
	time.Sleep(200 * time.Millisecond)
	g, err := authz.Grant(ctx, rbac.Grant{Tenant: "acme", User: "eve", Role: "viewer"})
	require.NoError(t, err)
	fmt.Printf("GRANTED %s %d\n", g.ID, time.Now().UnixNano())
}
