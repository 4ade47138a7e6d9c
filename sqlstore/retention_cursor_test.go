package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// TestSweepAfterTriggerChange: a data set whose policy moves from a period
// since an event to one since creation (a schedule change) keeps the
// event-walk cursor the capped sweep left ("e<subject>\x1f<id>"); the
// records walk then reads it as an ID, and on an integer key every sweep
// of the data set fails for ever instead of starting afresh.
func TestSweepAfterTriggerChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		makeForms(t, db, 40)
		tt, err := db.TableTarget(ctx, formsTable)
		require.NoError(t, err)
		store := db.RetentionStore()
		clock := dataward.ClockFunc(func() time.Time { return retentionNow })
		ev := retention.Policy{Dataset: "web_forms", Category: "user.contact", Period: "30 days", Since: retention.SinceEvent,
			Event: "unsubscribe", Action: retention.Delete, Reason: "privacy notice s4"}
		sw, err := retention.New(store, &retention.Schedule{Policies: []retention.Policy{ev}}, map[string]retention.Target{"web_forms": tt},
			&retention.Options{Clock: clock, BatchSize: 3, MaxPerRun: 2})
		require.NoError(t, err)
		for _, s := range []dataward.SubjectID{"s1", "s2"} {
			require.NoError(t, sw.RecordEvent(ctx, "unsubscribe", s, retentionNow.AddDate(0, -3, 0)))
		}
		rep, err := sw.Sweep(ctx)
		require.NoError(t, err)
		require.True(t, rep.Policies[0].Capped, "the sweep stops at the cap and keeps an event cursor")

		// The schedule changes: the data set is now kept 2 months from creation.
		cr := retention.Policy{Dataset: "web_forms", Category: "user.contact", Period: "2 months", Since: retention.SinceCreated,
			Action: retention.Delete, Reason: "privacy notice s4"}
		sw2, err := retention.New(store, &retention.Schedule{Policies: []retention.Policy{cr}}, map[string]retention.Target{"web_forms": tt},
			&retention.Options{Clock: clock})
		require.NoError(t, err)
		rep, err = sw2.Sweep(ctx)
		require.NoError(t, err)
		assert.NotEmpty(t, rep.Policies[0].Disposed, "the rows due since creation are deleted")
		_, err = sw2.Sweep(ctx)
		require.NoError(t, err)
	})
}
