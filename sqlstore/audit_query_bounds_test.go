package sqlstore_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// Query's bounds on time select what audit.Filter.Matches selects, also
// when they lie beyond the times the database can hold, where binding
// them would overflow (SQLite's Unix microseconds) or make the database
// fail (PostgreSQL's timestamptz): a far-future To, or a far-past From,
// is no condition at all; a To at or before every time there can be
// selects nothing. And a To just before the zero time is a bound, not
// "none".
func TestAuditStoreQueryTimeBoundsOutOfRange(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := open(t, be.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		g := newEntryGen(7)
		entries := g.entries(4)
		entries[1].Time = time.Time{} // stored as the first instant of year 1
		entries[2].Time = time.Date(-5, 6, 7, 8, 9, 10, 0, time.UTC)
		b, err := batchAt(ctx, mem, 0, entries)
		require.NoError(t, err)
		require.NoError(t, mem.Append(ctx, b))
		require.NoError(t, s.Append(ctx, b))

		maxTime := time.Unix(math.MaxInt64-62135596801, 999999999)
		minTime := time.Unix(math.MinInt64, 0)
		for _, f := range []audit.Filter{
			{To: maxTime},
			{To: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{From: time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{From: minTime},
			{From: maxTime},
			{From: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{To: time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{To: minTime},
			{To: time.Time{}.Add(-time.Nanosecond)},
			{From: time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			for _, action := range []string{"", entries[0].Action} { // in SQL only, and in Go too
				f.After, f.Limit, f.Action = -1, 10, action
				want, err := mem.Query(ctx, f)
				require.NoError(t, err)
				got, err := s.Query(ctx, f)
				require.NoError(t, err, "From %v, To %v", f.From, f.To)
				require.Equal(t, indexesOf(want), indexesOf(got), "From %v, To %v, Action %q", f.From, f.To, f.Action)
			}
		}
	})
}

func indexesOf(es []audit.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Index)
	}
	return out
}
