package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/sqlstore"
)

// TestAuditStoreQueryRuns: the subject and actor indexes hold one entry
// per run of a value within a batch (migrations/0007_audit_runs.sql). A
// value that comes back within sqlstore.AuditRunReach entries continues
// its run, one that comes back later starts another, and no run spans two
// batches; Query returns what the reference implementation does for every
// cursor, inside runs and between them, and every page size.
func TestAuditStoreQueryRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		st := db.AuditStore()
		mem := audit.NewMemStore()
		g := newEntryGen(7)
		const r, auditSpan = sqlstore.AuditRunReach, sqlstore.AuditTimeRunSpan

		// Batch one: subject h:a at 0 and r (one run: r apart), then at
		// 2r+1 (r+1 later: a new run), 2r+2 and 3r+2, and last at 7r+7
		// (a third run); every other entry has a subject of its own. Actor
		// bob every tenth entry (one run), alice the others (one run).
		n := 7*r + 8
		first := g.entries(n)
		a := map[int]bool{0: true, r: true, 2*r + 1: true, 2*r + 2: true, 3*r + 2: true, 7*r + 7: true}
		for i := range first {
			first[i].Subject = fmt.Sprint("h:other-", i)
			if a[i] {
				first[i].Subject = "h:a"
			}
			first[i].ActorID = "alice"
			if i%10 == 0 {
				first[i].ActorID = "bob"
			}
		}
		// Batch two: h:a and alice throughout, runs of their own; times
		// that grow by a millisecond, stay, go back, jump, or are zero.
		second := g.entries(40)
		at := genTimeStart.Add(time.Hour)
		for i := range second {
			second[i].Subject, second[i].ActorID = "h:a", "alice"
			switch {
			case i == 12 || i == 13:
				second[i].Time = time.Time{}
			case i == 20:
				at = at.Add(-time.Millisecond)
			case i == 30:
				at = at.Add(time.Second)
			case i%7 != 0:
				at = at.Add(time.Millisecond + time.Duration(i)*time.Microsecond)
			}
			if !second[i].Time.IsZero() {
				second[i].Time = at
			}
		}
		var start int64
		for _, entries := range [][]audit.Entry{first, second} {
			batch, err := batchAt(ctx, mem, start, entries)
			require.NoError(t, err)
			require.NoError(t, mem.Append(ctx, batch))
			require.NoError(t, st.Append(ctx, batch))
			start += int64(len(entries))
		}

		n2 := int64(n)
		// The indexes hold runs on SQLite (PostgreSQL keeps an index entry
		// per entry, and has no columns of run ends).
		if b.name == "SQLite" {
			// The runs of value in column, as [first, last] entries.
			runs := func(column, value string) [][2]int64 {
				end := map[string]string{"subject": "subject_end", "actor_id": "actor_end"}[column]
				rows, err := db.SQL().QueryContext(ctx, "SELECT idx, "+end+" FROM dataward_audit_entries WHERE "+
					column+" = '"+value+"' AND "+end+" IS NOT NULL ORDER BY idx")
				require.NoError(t, err)
				defer rows.Close()
				var out [][2]int64
				for rows.Next() {
					var run [2]int64
					require.NoError(t, rows.Scan(&run[0], &run[1]))
					out = append(out, run)
				}
				require.NoError(t, rows.Err())
				return out
			}
			require.Equal(t, [][2]int64{{0, r}, {2*r + 1, 3*r + 2}, {7*r + 7, 7*r + 7}, {n2, n2 + 39}}, runs("subject", "h:a"))
			require.Equal(t, [][2]int64{{1, 1}}, runs("subject", "h:other-1"))
			require.Equal(t, [][2]int64{{0, n2 - 10}}, runs("actor_id", "bob"))
			require.Equal(t, [][2]int64{{1, n2 - 1}, {n2, n2 + 39}}, runs("actor_id", "alice"))
			var starts int
			require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM dataward_audit_entries WHERE subject_end IS NOT NULL").Scan(&starts))
			require.Equal(t, n-6+3+1, starts, "one index entry per run")

			// Runs of times: in batch one, entries are a second or so apart,
			// each its own run (but where time goes back by less); in batch
			// two, runs break at 0 (a new batch), 11 (over 10 ms after 0), 12
			// (the zero time), 14 (after it), 20 (back) and 30 (a jump).
			var times [][2]int64
			rows, err := db.SQL().QueryContext(ctx, fmt.Sprint("SELECT idx, time_end FROM dataward_audit_entries WHERE time_end >= 0 AND idx >= ", n, " ORDER BY idx"))
			require.NoError(t, err)
			for rows.Next() {
				var run [2]int64
				require.NoError(t, rows.Scan(&run[0], &run[1]))
				times = append(times, [2]int64{run[0] - n2, run[1] - n2})
			}
			require.NoError(t, rows.Err())
			require.Equal(t, [][2]int64{{0, 10}, {11, 11}, {12, 13}, {14, 19}, {20, 29}, {30, 39}}, times)
		}

		filters := []audit.Filter{
			{Subject: "h:a"},
			{ActorID: "bob"},
			{ActorID: "alice"},
			{Subject: "h:a", ActorID: "bob"},
			{Subject: "h:a", ActorID: "alice"},
			{Subject: "h:other-5"},
			{Subject: "h:a", From: first[2*r+2].Time},
			{Subject: "h:nobody"},
		}
		byValue := len(filters)
		for _, e := range second {
			for _, d := range []time.Duration{-auditSpan - time.Microsecond, -auditSpan, -1, 0, 1, time.Microsecond, auditSpan} {
				filters = append(filters, audit.Filter{From: e.Time.Add(d)}, audit.Filter{To: e.Time.Add(d)},
					audit.Filter{From: e.Time.Add(d), To: e.Time.Add(d + 3*time.Millisecond)})
			}
		}
		for i, f := range filters {
			cursors, limits := []int64{-1, n2 + 5, n2 + 15, n2 + 25}, []int{2, 1000}
			if i < byValue {
				cursors, limits = nil, []int{1, 2, 3, 1000}
				for after := int64(-1); after < start; after++ {
					cursors = append(cursors, after)
				}
			}
			requireSameResults(t, mem, st, f, cursors, limits, fmt.Sprint("filter ", i))
		}
	})
}

// requireSameResults requires st to answer f as mem does, after each of
// cursors and with each of limits.
func requireSameResults(t *testing.T, mem, st audit.Store, f audit.Filter, cursors []int64, limits []int, what string) {
	t.Helper()
	ctx := context.Background()
	for _, after := range cursors {
		for _, limit := range limits {
			f.After, f.Limit = after, limit
			want, err := mem.Query(ctx, f)
			require.NoError(t, err)
			got, err := st.Query(ctx, f)
			require.NoError(t, err)
			require.Equal(t, orNil(want), orNil(got), "%s: %+v", what, f)
		}
	}
}

// TestAuditStoreQueryTimeSpans: a query on time alone reads the runs of
// times when few may hold a match, and the log in order otherwise, a
// window at a time, starting at the cursor if the entry after it matches,
// else at the first run that may, and stopping after the span's last run;
// either way it returns what the reference implementation does, also
// where times go back (batches appended late, with older times).
func TestAuditStoreQueryTimeSpans(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		g := newEntryGen(8)
		// Entries a second apart, each a run of its own: more runs than
		// are sorted, and more entries than are read in order at a time.
		n := 2*sqlstore.InOrderWindow + 4*sqlstore.ManyTimeRuns
		var start int64
		for start < int64(n) {
			entries := g.entries(50)
			if start/50%5 == 3 {
				for i := range entries { // a batch from an hour before
					entries[i].Time = entries[i].Time.Add(-time.Hour)
				}
			}
			batch, err := batchAt(ctx, mem, start, entries)
			require.NoError(t, err)
			require.NoError(t, mem.Append(ctx, batch))
			require.NoError(t, st.Append(ctx, batch))
			start += int64(len(entries))
		}
		all, err := mem.ReadEntries(ctx, 0, int(start))
		require.NoError(t, err)
		at := func(i int) time.Time {
			for all[i].Time.IsZero() {
				i++
			}
			return all[i].Time
		}
		filters := []audit.Filter{
			{From: at(0)},                    // every entry, nearly
			{From: at(n / 2)},                // the second half, and older batches after it
			{To: at(n - 10)},                 // nearly all
			{From: at(n - 30)},               // a few runs
			{From: at(100), To: at(n - 100)}, // many
			{From: at(n / 2), To: at(n/2 + 20)},
			{To: at(40)},
			{From: at(n - 1).Add(time.Hour)}, // none
		}
		for i, f := range filters {
			requireSameResults(t, mem, st, f, []int64{-1, 0, 49, 150, 151, int64(n / 2), int64(n - 20), start - 1, start + 5},
				[]int{1, 7, 100, n}, fmt.Sprint("filter ", i))
		}
	})
}

// TestAuditStoreRunsOfWallClockTimes: runs of times follow the times as
// stored (the wall clock), not as time.Time compares two readings of
// time.Now (the monotonic clock). Here the wall clock stepped back an hour
// between two readings that the monotonic clock puts a millisecond apart:
// the second entry must start a run of its own, or a query up to a time
// between the two misses it.
func TestAuditStoreRunsOfWallClockTimes(t *testing.T) {
	ctx := context.Background()
	st := open(t, backends[0].dsn(t)).AuditStore()
	mem := audit.NewMemStore()
	t1 := time.Now()
	t2 := t1.Add(time.Millisecond)
	// time.Time keeps its wall clock reading in its first word, the
	// seconds from bit 30 up when it has a monotonic reading.
	(*struct{ wall uint64 })(unsafe.Pointer(&t2)).wall -= 3600 << 30
	require.True(t, t1.Before(t2), "by the monotonic clock")
	require.True(t, t2.Round(0).Before(t1.Round(0)), "by the wall clock")
	es := newEntryGen(3).entries(2)
	es[0].Time, es[1].Time = t1, t2
	b, err := batchAt(ctx, mem, 0, es)
	require.NoError(t, err)
	require.NoError(t, mem.Append(ctx, b))
	require.NoError(t, st.Append(ctx, b))
	f := audit.Filter{To: t1.Round(0).Add(-30 * time.Minute), Limit: 10}
	want, err := mem.Query(ctx, f)
	require.NoError(t, err)
	require.Len(t, want, 1)
	got, err := st.Query(ctx, f)
	require.NoError(t, err)
	require.Len(t, got, 1, "the second entry")
	require.EqualValues(t, 1, got[0].Index) // its time, to the microsecond: time.Now has nanoseconds
}
