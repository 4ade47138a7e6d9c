package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/rbac"
	"github.com/dataward/dataward/retention"
)

// TestLookupsOfKeysNoRowCanHave: a key that PostgreSQL cannot store as
// text (not UTF-8, or with a NUL byte) names nothing, as in the in-memory
// stores: removing or reading it is "not found" (or nothing), not a
// driver error. rbac.Authorizer.Revoke hands its caller's ID straight to
// Remove.
func TestLookupsOfKeysNoRowCanHave(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		for _, bad := range []string{"grant-\xff", "grant-\x00"} {
			err := db.RBACStore().Remove(ctx, bad)
			assert.ErrorIs(t, err, rbac.ErrNotFound, "RBACStore.Remove(%q)", bad)
			if mem := rbac.NewMemStore().Remove(ctx, bad); !assert.ErrorIs(t, mem, rbac.ErrNotFound) {
				t.Fatal("MemStore disagrees")
			}
			err = db.RetentionStore().RemoveHold(ctx, bad)
			assert.ErrorIs(t, err, retention.ErrNotFound, "RetentionStore.RemoveHold(%q)", bad)
			err = db.RetentionStore().DeleteEvent(ctx, "closed", "subj-\xff")
			assert.ErrorIs(t, err, retention.ErrNotFound, "RetentionStore.DeleteEvent")
			err = db.RetentionStore().SetCursor(ctx, bad, "owner", "c", time.Now())
			assert.ErrorIs(t, err, retention.ErrLeaseLost, "RetentionStore.SetCursor(%q)", bad)
			c, err := db.RetentionStore().Cursor(ctx, bad)
			assert.NoError(t, err, "RetentionStore.Cursor(%q)", bad)
			assert.Empty(t, c)
			evs, err := db.RetentionStore().Events(ctx, bad, time.Now(), "", 10)
			assert.NoError(t, err, "RetentionStore.Events(%q)", bad)
			assert.Empty(t, evs)
			_, err = db.BreachStore().Versions(ctx, bad)
			assert.ErrorIs(t, err, breach.ErrNotFound, "BreachStore.Versions(%q)", bad)
			ds, err := db.BreachStore().Deliveries(ctx, bad)
			assert.NoError(t, err, "BreachStore.Deliveries(%q)", bad)
			assert.Empty(t, ds)
			rs, err := db.BreachStore().Receipts(ctx, bad)
			assert.NoError(t, err, "BreachStore.Receipts(%q)", bad)
			assert.Empty(t, rs)
			cs := db.ConsentStore()
			hist, err := cs.History(ctx, "t1", "subj-\xff")
			assert.NoError(t, err, "ConsentStore.History")
			assert.Empty(t, hist)
			recs, err := cs.Since(ctx, bad, 0, 10)
			assert.NoError(t, err, "ConsentStore.Since(%q)", bad)
			assert.Empty(t, recs)
			head, err := cs.Head(ctx, bad)
			assert.NoError(t, err, "ConsentStore.Head(%q)", bad)
			assert.Zero(t, head)
		}
	})
}
