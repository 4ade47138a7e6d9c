package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"math"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// entryGen makes random but deterministic entries, with field values drawn
// from small sets so that filters select some and not others.
type entryGen struct {
	rng *mrand.Rand
	n   int
}

func newEntryGen(seed uint64) *entryGen {
	return &entryGen{rng: mrand.New(mrand.NewPCG(seed, 42))}
}

var (
	genActions   = []string{"auth.login", "customer.view", "customer.update", "pii.reveal"}
	genClasses   = []string{"", "access", "security"}
	genActors    = []string{"alice", "bob", "svc:batch", "h:3f9a0c", "Alice"}
	genSubjects  = []string{"", "h:s1", "h:s2", "h:S1", "h:ä"}
	genResTypes  = []string{"", "customer", "http.route"}
	genResIDs    = []string{"", "cust-1", "cust-2", "/v1/customers/{id}"}
	genOutcomes  = []audit.Outcome{audit.Success, audit.Success, audit.Denied, audit.Failure}
	genTimeStart = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
)

// entries returns n new entries (Index left for batchAt to set). Times grow
// by up to a second from one entry to the next, to the microsecond; about
// one entry in 50 has no time.
func (g *entryGen) entries(n int) []audit.Entry {
	pick := func(xs []string) string { return xs[g.rng.IntN(len(xs))] }
	out := make([]audit.Entry, n)
	for i := range out {
		g.n++
		e := audit.Entry{
			Data:         fmt.Appendf(nil, "entry %d: %x", g.n, g.rng.Uint64()),
			Time:         genTimeStart.Add(time.Duration(g.n)*time.Second - time.Duration(g.rng.IntN(1e6))*time.Microsecond),
			Action:       pick(genActions),
			Class:        pick(genClasses),
			ActorID:      pick(genActors),
			Subject:      pick(genSubjects),
			ResourceType: pick(genResTypes),
			ResourceID:   pick(genResIDs),
			Outcome:      genOutcomes[g.rng.IntN(len(genOutcomes))],
		}
		if g.rng.IntN(50) == 0 {
			e.Time = time.Time{}
		}
		out[i] = e
	}
	return out
}

// batchAt numbers entries from start and adds the tree hashes that
// tlog.StoredHashes computes for them, reading the hashes of earlier
// entries from r, as the audit Logger does.
func batchAt(ctx context.Context, r audit.Store, start int64, entries []audit.Entry) (audit.Batch, error) {
	pending := make(map[int64]tlog.Hash)
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var stored []int64
		for _, x := range indexes {
			if _, ok := pending[x]; !ok {
				stored = append(stored, x)
			}
		}
		var hs []tlog.Hash
		if len(stored) > 0 {
			var err error
			if hs, err = r.ReadHashes(ctx, stored); err != nil {
				return nil, err
			}
		}
		for i, x := range indexes {
			if h, ok := pending[x]; ok {
				out[i] = h
			} else {
				out[i], hs = hs[0], hs[1:]
			}
		}
		return out, nil
	})
	b := audit.Batch{Entries: make([]audit.Entry, len(entries))}
	for i, e := range entries {
		e.Index = start + int64(i)
		b.Entries[i] = e
		hs, err := tlog.StoredHashes(e.Index, e.Data, reader)
		if err != nil {
			return audit.Batch{}, err
		}
		next := tlog.StoredHashIndex(0, e.Index)
		for j, h := range hs {
			pending[next+int64(j)] = h
			b.Hashes = append(b.Hashes, audit.StoredHash{Index: next + int64(j), Hash: h})
		}
	}
	return b, nil
}

// appendBoth appends the same n new entries to every store, which must all
// be at the same size.
func appendBoth(t *testing.T, g *entryGen, n int, stores ...audit.Store) audit.Batch {
	t.Helper()
	ctx := context.Background()
	size, err := stores[0].Size(ctx)
	require.NoError(t, err)
	b, err := batchAt(ctx, stores[0], size, g.entries(n))
	require.NoError(t, err)
	for _, s := range stores {
		require.NoError(t, s.Append(ctx, b))
	}
	return b
}

// orNil makes an empty result nil, for comparing stores that differ on
// that alone.
func orNil[E any](s []E) []E {
	if len(s) == 0 {
		return nil
	}
	return s
}

func allIndexes(n int64) []int64 {
	xs := make([]int64, n)
	for i := range xs {
		xs[i] = int64(i)
	}
	return xs
}

// TestAuditStoreRoundTrip appends batches of several sizes (one larger
// than a single INSERT takes) and reads back every entry and hash.
func TestAuditStoreRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		g := newEntryGen(1)

		size, err := st.Size(ctx)
		require.NoError(t, err)
		require.Zero(t, size)
		got, err := st.ReadEntries(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, got)
		require.NoError(t, st.Append(ctx, audit.Batch{}), "an empty batch is a no-op")

		for _, n := range []int{1, 1, 2, 5, 64, 700, 3} {
			appendBoth(t, g, n, mem, st)
		}
		size, err = st.Size(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 776, size)

		want, err := mem.ReadEntries(ctx, 0, 1000)
		require.NoError(t, err)
		got, err = st.ReadEntries(ctx, 0, 1000)
		require.NoError(t, err)
		require.Equal(t, want, got)
		for _, r := range []struct {
			start int64
			n     int
		}{{0, 1}, {3, 7}, {770, 10}, {776, 5}, {900, 5}, {10, 0}} {
			want, err := mem.ReadEntries(ctx, r.start, r.n)
			require.NoError(t, err)
			got, err := st.ReadEntries(ctx, r.start, r.n)
			require.NoError(t, err)
			require.Equal(t, orNil(want), orNil(got), "ReadEntries(%d, %d)", r.start, r.n)
		}
		_, err = st.ReadEntries(ctx, -1, 5)
		require.Error(t, err)
		_, err = st.ReadEntries(ctx, 0, -5)
		require.Error(t, err)

		nh := tlog.StoredHashCount(size)
		wantH, err := mem.ReadHashes(ctx, allIndexes(nh))
		require.NoError(t, err)
		gotH, err := st.ReadHashes(ctx, allIndexes(nh))
		require.NoError(t, err)
		require.Equal(t, wantH, gotH)

		// In the order asked, duplicates included.
		asked := []int64{nh - 1, 5, 0, 5, 1000, 2}
		gotH, err = st.ReadHashes(ctx, asked)
		require.NoError(t, err)
		for i, x := range asked {
			require.Equal(t, wantH[x], gotH[i], "hash %d", x)
		}
		gotH, err = st.ReadHashes(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, gotH)
		for _, missing := range []int64{nh, nh + 100, -1} {
			_, err = st.ReadHashes(ctx, []int64{0, missing, 1})
			require.ErrorIs(t, err, audit.ErrNotFound, "hash %d", missing)
		}

		// The tree the hashes form is the tree of the entries' data.
		root, err := tlog.TreeHash(size, tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) { return st.ReadHashes(ctx, xs) }))
		require.NoError(t, err)
		memRoot, err := tlog.TreeHash(size, tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) { return mem.ReadHashes(ctx, xs) }))
		require.NoError(t, err)
		require.Equal(t, memRoot, root)
	})
}

// TestAuditStoreTimes: times come back in UTC, truncated to the
// microsecond, before the Unix epoch too; the zero time is kept.
func TestAuditStoreTimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		local := time.FixedZone("SAST", 2*60*60)
		times := []time.Time{
			time.Date(2026, 1, 2, 3, 4, 5, 987654321, local),
			time.Date(1969, 7, 20, 20, 17, 40, 999999999, local),
			{},
		}
		entries := make([]audit.Entry, len(times))
		for i, tm := range times {
			entries[i] = audit.Entry{Data: []byte{byte(i)}, Time: tm, Action: "a"}
		}
		batch, err := batchAt(ctx, st, 0, entries)
		require.NoError(t, err)
		require.NoError(t, st.Append(ctx, batch))
		got, err := st.ReadEntries(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, got, len(times))
		for i, tm := range times {
			if tm.IsZero() {
				require.True(t, got[i].Time.IsZero())
				continue
			}
			require.Equal(t, tm.Truncate(time.Microsecond).UTC(), got[i].Time)
			require.Equal(t, time.UTC, got[i].Time.Location())
		}
	})
}

// TestAuditStoreAppendConflict: a batch that does not start at the end of
// the log, behind it or beyond it, fails with ErrConflict and stores
// nothing.
func TestAuditStoreAppendConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		g := newEntryGen(2)
		appendBoth(t, g, 10, st)

		// A batch built for size 5, as by an appender that read the size
		// before another appended.
		stale, err := batchAt(ctx, st, 5, g.entries(3))
		require.NoError(t, err)
		err = st.Append(ctx, stale)
		require.ErrorIs(t, err, audit.ErrConflict)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), err.Error())

		ahead := g.entries(2)
		ahead[0].Index, ahead[1].Index = 11, 12
		err = st.Append(ctx, audit.Batch{Entries: ahead})
		require.ErrorIs(t, err, audit.ErrConflict)

		size, err := st.Size(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 10, size)
		got, err := st.ReadEntries(ctx, 0, 100)
		require.NoError(t, err)
		require.Len(t, got, 10)
		for i, e := range got {
			require.EqualValues(t, i, e.Index)
			require.NotEqual(t, stale.Entries[0].Data, e.Data)
		}
		_, err = st.ReadHashes(ctx, []int64{tlog.StoredHashCount(10)})
		require.ErrorIs(t, err, audit.ErrNotFound, "no hash of the stale batch was stored")

		// The log goes on where it was.
		appendBoth(t, g, 4, st)
		size, err = st.Size(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 14, size)
	})
}

// TestAuditStoreAppendRejectsBadBatch: a batch whose hashes do not start
// where the stored ones end, or do not follow each other, or whose entries
// do not follow each other, fails without ErrConflict and stores nothing,
// not even its valid part, and leaves the head where it was.
func TestAuditStoreAppendRejectsBadBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		g := newEntryGen(3)
		appendBoth(t, g, 7, st)
		nh := tlog.StoredHashCount(7)

		good, err := batchAt(ctx, st, 7, g.entries(300))
		require.NoError(t, err)
		clone := func() audit.Batch {
			return audit.Batch{Entries: append([]audit.Entry(nil), good.Entries...), Hashes: append([]audit.StoredHash(nil), good.Hashes...)}
		}
		bad := map[string]audit.Batch{}
		x := clone()
		for i := range x.Hashes {
			x.Hashes[i].Index++
		}
		bad["hashes start one too late"] = x
		x = clone()
		x.Hashes[len(x.Hashes)-1].Index++
		bad["a gap before the last hash"] = x
		x = clone()
		x.Entries[299].Index = 400
		bad["the last entry out of sequence"] = x
		x = clone()
		x.Entries[1] = x.Entries[2]
		bad["an entry twice"] = x

		for name, batch := range bad {
			err := st.Append(ctx, batch)
			require.Error(t, err, name)
			require.NotErrorIs(t, err, audit.ErrConflict, name)
			require.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), err.Error())
			size, err := st.Size(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 7, size, name)
			got, err := st.ReadEntries(ctx, 7, 10)
			require.NoError(t, err)
			require.Empty(t, got, name)
			_, err = st.ReadHashes(ctx, []int64{nh})
			require.ErrorIs(t, err, audit.ErrNotFound, name)
		}

		require.NoError(t, st.Append(ctx, good), "the head did not move")
		size, err := st.Size(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 307, size)
	})
}

// TestAuditStoreQueryMatchesMemStore feeds the same batches to the SQL
// store and to the reference implementation, then requires the same
// results from Query for a filter on each field alone, for random
// combinations, and page by page through each result.
func TestAuditStoreQueryMatchesMemStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		g := newEntryGen(4)
		rng := mrand.New(mrand.NewPCG(4, 4))
		for range 20 {
			appendBoth(t, g, 1+rng.IntN(60), mem, st)
		}
		size, err := mem.Size(ctx)
		require.NoError(t, err)
		end := genTimeStart.Add(time.Duration(g.n) * time.Second)

		// A time in the log's span, sometimes exactly an entry's, sometimes
		// off it by nanoseconds (bounds finer than what is stored).
		entries, err := mem.ReadEntries(ctx, 0, int(size))
		require.NoError(t, err)
		randTime := func() time.Time {
			switch rng.IntN(3) {
			case 0:
				return entries[rng.IntN(len(entries))].Time
			case 1:
				return entries[rng.IntN(len(entries))].Time.Add(time.Duration(rng.IntN(2001)-1000) * time.Nanosecond)
			}
			return genTimeStart.Add(time.Duration(rng.Int64N(int64(end.Sub(genTimeStart)))))
		}
		pickOr := func(xs []string, other string) string {
			if rng.IntN(6) == 0 {
				return other
			}
			return xs[rng.IntN(len(xs))]
		}

		filters := []audit.Filter{
			{},
			{From: entries[100].Time},
			{From: entries[100].Time.Add(1)},
			{To: entries[100].Time},
			{To: entries[100].Time.Add(1)},
			{From: entries[50].Time, To: entries[300].Time},
			{Action: "pii.reveal"},
			{ActorID: "alice"},
			{ActorID: "Alice"},
			{Subject: "h:s1"},
			{Subject: "h:ä"},
			{ResourceType: "customer"},
			{ResourceID: "cust-2"},
			{Outcome: audit.Denied},
			{Action: "nothing.like.it"},
			{ResourceType: "customer", ResourceID: "cust-1", Outcome: audit.Success},
		}
		for range 100 {
			var f audit.Filter
			if rng.IntN(3) == 0 {
				f.From = randTime()
			}
			if rng.IntN(3) == 0 {
				f.To = randTime()
			}
			if rng.IntN(3) == 0 {
				f.Action = pickOr(genActions, "auth.logout")
			}
			if rng.IntN(3) == 0 {
				f.ActorID = pickOr(genActors, "carol")
			}
			if rng.IntN(3) == 0 {
				f.Subject = pickOr(genSubjects[1:], "h:s3")
			}
			if rng.IntN(4) == 0 {
				f.ResourceType = pickOr(genResTypes[1:], "file")
			}
			if rng.IntN(4) == 0 {
				f.ResourceID = pickOr(genResIDs[1:], "cust-3")
			}
			if rng.IntN(4) == 0 {
				f.Outcome = genOutcomes[rng.IntN(len(genOutcomes))]
			}
			filters = append(filters, f)
		}

		for i, f := range filters {
			// The whole result at once, from the start and after a cursor.
			for _, after := range []int64{-1, -7, int64(rng.IntN(int(size)))} {
				f.After, f.Limit = after, int(size)+1
				want, err := mem.Query(ctx, f)
				require.NoError(t, err)
				got, err := st.Query(ctx, f)
				require.NoError(t, err)
				require.Equal(t, orNil(want), orNil(got), "filter %d: %+v", i, f)
			}
			// Page by page, with the last index of a page as the next
			// cursor.
			f.After, f.Limit = -1, 1+rng.IntN(25)
			for page := 0; ; page++ {
				want, err := mem.Query(ctx, f)
				require.NoError(t, err)
				got, err := st.Query(ctx, f)
				require.NoError(t, err)
				require.Equal(t, orNil(want), orNil(got), "filter %d page %d: %+v", i, page, f)
				if len(want) < f.Limit {
					break
				}
				f.After = want[len(want)-1].Index
			}
		}

		for _, limit := range []int{0, -1} {
			_, err := st.Query(ctx, audit.Filter{After: -1, Limit: limit})
			require.Error(t, err)
		}
	})
}

// TestAuditStoreQuerySelectiveFilter: a Logger's entries keep their
// action, resource and outcome only in their data (no fields column), and
// a filter on those that few entries match still returns exactly Limit
// entries in order of index, Query reading several pages of rows for one
// page of results, as the reference implementation does.
func TestAuditStoreQuerySelectiveFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		st := db.AuditStore()

		// The log is made by a Logger in memory, then copied in batches.
		const n = 1600
		mem := audit.NewMemStore()
		l, err := audit.New(mem, &audit.Options{HashKey: make([]byte, 32)})
		require.NoError(t, err)
		for i := range n {
			e := audit.Event{
				Action:   "customer.view",
				Actor:    audit.Actor{ID: []string{"staff-1", "staff-2"}[i%2]},
				Subject:  dataward.SubjectID(fmt.Sprint("cust-", i%3)),
				Resource: audit.Resource{Type: "customer", ID: fmt.Sprint("c-", i%5)},
			}
			if i%300 == 7 {
				e.Action = "pii.reveal" // 6 entries, one or two per 512 rows
			}
			if i%450 == 0 {
				e.Resource.Type = "invoice"
			}
			if i%200 == 3 {
				e.Outcome = audit.Denied
			}
			require.NoError(t, l.Record(ctx, e))
		}
		require.NoError(t, l.Close(ctx))
		entries, err := mem.ReadEntries(ctx, 0, n)
		require.NoError(t, err)
		for start := 0; start < n; start += 256 {
			batch, err := batchAt(ctx, st, int64(start), entries[start:min(start+256, n)])
			require.NoError(t, err)
			require.NoError(t, st.Append(ctx, batch))
		}
		var withFields int
		require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM dataward_audit_entries WHERE fields IS NOT NULL").Scan(&withFields))
		require.Zero(t, withFields, "a Logger's entries keep their fields in their data alone")
		got, err := st.ReadEntries(ctx, 0, n)
		require.NoError(t, err)
		require.Equal(t, entries, got)

		filters := []audit.Filter{
			{Action: "pii.reveal"},
			{Action: "pii.reveal", ActorID: "staff-2"},
			{Action: "pii.reveal", Subject: l.SubjectKey("cust-1")},
			{ResourceType: "invoice"},
			{ResourceType: "invoice", ResourceID: "c-0", From: entries[400].Time},
			{Outcome: audit.Denied, ActorID: "staff-2"},
			{Outcome: audit.Denied, Action: "pii.reveal"},
			{ResourceID: "c-3", Outcome: audit.Success, Subject: l.SubjectKey("cust-2")},
		}
		for i, f := range filters {
			for _, limit := range []int{1, 2, 3, 700} {
				f.After, f.Limit = -1, limit
				pages := 0
				for {
					want, err := mem.Query(ctx, f)
					require.NoError(t, err)
					got, err := st.Query(ctx, f)
					require.NoError(t, err)
					require.Equal(t, orNil(want), orNil(got), "filter %d, limit %d, after %d", i, limit, f.After)
					if len(want) < f.Limit {
						break
					}
					f.After = want[len(want)-1].Index
					pages++
				}
				if i == 0 && limit == 2 {
					require.Equal(t, 3, pages, "6 entries match, 2 a page")
				}
			}
		}
	})
}

// TestAuditStoreCheckpoints compares the checkpoint methods with the
// reference implementation's: adding a size twice keeps the first, and
// reads are in order of size.
func TestAuditStoreCheckpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := open(t, b.dsn(t)).AuditStore()
		mem := audit.NewMemStore()

		_, err := st.LatestCheckpoint(ctx)
		require.ErrorIs(t, err, audit.ErrNotFound)
		got, err := st.Checkpoints(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, got)

		cp := func(size int64, note string) audit.Checkpoint {
			return audit.Checkpoint{
				Size: size,
				Root: tlog.RecordHash([]byte(note)),
				Time: genTimeStart.Add(time.Duration(size) * time.Minute),
				Note: []byte(note + "\n\n— dataward.example Az3grlgt\n"),
			}
		}
		for _, c := range []audit.Checkpoint{cp(10, "ten"), cp(3, "three"), cp(100, "hundred"), cp(10, "ten again"), cp(0, "empty"), cp(55, "fifty-five")} {
			require.NoError(t, mem.AddCheckpoint(ctx, c))
			require.NoError(t, st.AddCheckpoint(ctx, c))
		}

		latest, err := st.LatestCheckpoint(ctx)
		require.NoError(t, err)
		require.Equal(t, cp(100, "hundred"), latest)
		for _, q := range []struct {
			min   int64
			limit int
		}{{0, 10}, {0, 2}, {4, 10}, {10, 1}, {11, 2}, {101, 5}, {0, 0}, {-5, 3}} {
			want, err := mem.Checkpoints(ctx, q.min, q.limit)
			require.NoError(t, err)
			got, err := st.Checkpoints(ctx, q.min, q.limit)
			require.NoError(t, err)
			require.Equal(t, orNil(want), orNil(got), "Checkpoints(%d, %d)", q.min, q.limit)
		}
		got, err = st.Checkpoints(ctx, 10, 1)
		require.NoError(t, err)
		require.Equal(t, []audit.Checkpoint{cp(10, "ten")}, got, "the first checkpoint of a size stays")
	})
}

// TestAuditStoreCanceledContext: with a canceled context every method
// fails with an error matching context.Canceled, and nothing is stored.
func TestAuditStoreCanceledContext(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := open(t, b.dsn(t)).AuditStore()
		g := newEntryGen(5)
		appendBoth(t, g, 3, st)
		batch, err := batchAt(context.Background(), st, 3, g.entries(2))
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err = st.Append(ctx, batch)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), err.Error())
		_, err = st.Size(ctx)
		require.ErrorIs(t, err, context.Canceled)
		_, err = st.ReadEntries(ctx, 0, 3)
		require.ErrorIs(t, err, context.Canceled)
		_, err = st.ReadHashes(ctx, []int64{0})
		require.ErrorIs(t, err, context.Canceled)
		_, err = st.Query(ctx, audit.Filter{After: -1, Limit: 3})
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, st.AddCheckpoint(ctx, audit.Checkpoint{Size: 3}), context.Canceled)
		_, err = st.Checkpoints(ctx, 0, 3)
		require.ErrorIs(t, err, context.Canceled)
		_, err = st.LatestCheckpoint(ctx)
		require.ErrorIs(t, err, context.Canceled)

		size, err := st.Size(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 3, size)
		_, err = st.LatestCheckpoint(context.Background())
		require.ErrorIs(t, err, audit.ErrNotFound)
		require.NoError(t, st.Append(context.Background(), batch))
	})
}

// TestAuditStoreErrorsOmitEntryData breaks the log behind the store's back
// (the head says the log is shorter than it is), so that the next append
// fails in the database, and checks that the error names the failure but
// none of the entry's data.
func TestAuditStoreErrorsOmitEntryData(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		st := db.AuditStore()
		g := newEntryGen(6)
		appendBoth(t, g, 3, st)
		_, err := db.SQL().ExecContext(ctx, "UPDATE dataward_audit_head SET size = 2, hashes = 3")
		require.NoError(t, err)

		secret := audit.Entry{Data: []byte("SECRET-DATA"), Action: "SECRET-ACTION", ActorID: "SECRET-ACTOR", Subject: "SECRET-SUBJECT", ResourceID: "SECRET-RESOURCE"}
		batch, err := batchAt(ctx, st, 2, []audit.Entry{secret})
		require.NoError(t, err)
		err = st.Append(ctx, batch)
		require.Error(t, err)
		require.NotErrorIs(t, err, audit.ErrConflict)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: append to audit log: insert entries: "), err.Error())
		require.NotContains(t, err.Error(), "SECRET")
		t.Log(err)

		size, err := st.Size(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, size, "the head's update was rolled back")
		got, err := st.ReadEntries(ctx, 2, 1)
		require.NoError(t, err)
		require.NotEqual(t, secret.Data, got[0].Data, "the stored entry is untouched")
	})
}

// TestAuditStoreTextPostgresCannotHold: on PostgreSQL, which cannot store
// text with a NUL byte or invalid UTF-8, such an entry fails the append
// with an error naming the field (not quoting it), and nothing is stored;
// SQLite keeps such strings as they are.
func TestAuditStoreTextPostgresCannotHold(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		st := db.AuditStore()
		for i, actor := range []string{"a\x00b", "a\xffb"} {
			before, err := st.Size(ctx)
			require.NoError(t, err)
			batch, err := batchAt(ctx, st, before, []audit.Entry{{Data: []byte{byte(i)}, Action: "a", ActorID: actor}})
			require.NoError(t, err)
			err = st.Append(ctx, batch)
			size, serr := st.Size(ctx)
			require.NoError(t, serr)
			if db.Dialect() == sqlstore.Postgres {
				require.Error(t, err, "%q", actor)
				require.Equal(t, "sqlstore: append to audit log: entry 0: ActorID is not valid UTF-8 or holds a NUL byte, which postgres cannot store as text", err.Error())
				require.Equal(t, before, size)
				continue
			}
			require.NoError(t, err, "%q", actor)
			require.Equal(t, before+1, size)
			got, err := st.Query(ctx, audit.Filter{ActorID: actor, After: -1, Limit: 5})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, actor, got[0].ActorID)
		}
	})
}

// auditWriter appends count batches of its own entries, each of 1 to 20
// entries whose data names the writer, retrying from a fresh Size after
// each conflict, as the audit Logger does. It returns how many conflicts
// it met.
func auditWriter(ctx context.Context, st audit.Store, name string, count int, seed uint64) (conflicts int, err error) {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	seq := 0
	for range count {
		entries := make([]audit.Entry, 1+rng.IntN(20))
		for i := range entries {
			entries[i] = audit.Entry{Data: fmt.Appendf(nil, "%s/%d", name, seq), Action: "write", ActorID: name}
			seq++
		}
		for {
			size, err := st.Size(ctx)
			if err != nil {
				return conflicts, err
			}
			batch, err := batchAt(ctx, st, size, entries)
			if err != nil {
				return conflicts, err
			}
			err = st.Append(ctx, batch)
			if err == nil {
				break
			}
			if !errors.Is(err, audit.ErrConflict) {
				return conflicts, err
			}
			conflicts++
		}
	}
	return conflicts, nil
}

// checkAuditLog checks that st holds the entries of the given writers
// (the data "writer/seq", seq from 0 to counts[writer]-1), each exactly
// once, in each writer's order, at consecutive indexes from 0, and exactly
// the tree hashes of those entries.
func checkAuditLog(t *testing.T, st audit.Store, counts map[string]int) {
	t.Helper()
	ctx := context.Background()
	total := 0
	for _, n := range counts {
		total += n
	}
	size, err := st.Size(ctx)
	require.NoError(t, err)
	require.EqualValues(t, total, size)
	entries, err := st.ReadEntries(ctx, 0, total+1)
	require.NoError(t, err)
	require.Len(t, entries, total)

	next := make(map[string]int)
	for i, e := range entries {
		require.EqualValues(t, i, e.Index)
		name, seq, ok := strings.Cut(string(e.Data), "/")
		require.True(t, ok, "entry %d", i)
		require.Equal(t, fmt.Sprint(next[name]), seq, "entry %d: %s's entries out of order or twice", i, name)
		next[name]++
	}
	require.Equal(t, counts, next)

	// Recompute the tree from the entries, one at a time, and compare
	// every stored hash.
	mem := audit.NewMemStore()
	for _, e := range entries {
		b, err := batchAt(ctx, mem, e.Index, []audit.Entry{e})
		require.NoError(t, err)
		require.NoError(t, mem.Append(ctx, b))
	}
	nh := tlog.StoredHashCount(size)
	want, err := mem.ReadHashes(ctx, allIndexes(nh))
	require.NoError(t, err)
	got, err := st.ReadHashes(ctx, allIndexes(nh))
	require.NoError(t, err)
	require.Equal(t, want, got, "the stored tree is not the tree of the stored entries")
	_, err = st.ReadHashes(ctx, []int64{nh})
	require.ErrorIs(t, err, audit.ErrNotFound, "more hashes than the entries need")
}

// TestAuditStoreConcurrentAppenders runs several appenders at once, each
// with a pool of its own on the same database, as replicas of a host would.
// Every entry must end up in the log exactly once, without gaps, with the
// tree hashes matching.
func TestAuditStoreConcurrentAppenders(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		const writers, batches = 6, 25
		stores := make([]*sqlstore.AuditStore, writers)
		for i := range stores {
			stores[i] = open(t, dsn).AuditStore()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := make(map[string]int)
		conflicts := 0
		start := make(chan struct{})
		for i, st := range stores {
			wg.Go(func() {
				<-start
				name := fmt.Sprint("writer-", i)
				c, err := auditWriter(ctx, st, name, batches, uint64(i))
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				mu.Lock()
				defer mu.Unlock()
				conflicts += c
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		for i := range writers {
			counts[fmt.Sprint("writer-", i)] = writtenBy(uint64(i), batches)
		}
		t.Logf("%d conflicts", conflicts)
		checkAuditLog(t, stores[0], counts)
	})
}

// writtenBy returns how many entries auditWriter writes with the given
// seed and count.
func writtenBy(seed uint64, count int) int {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	n := 0
	for range count {
		n += 1 + rng.IntN(20)
	}
	return n
}

// Append is on the hot path of every audited action. This reports its
// throughput in entries per second, for batches of the usual size.
func BenchmarkAuditStoreAppend(b *testing.B) {
	for _, be := range backends {
		for _, size := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, size), func(b *testing.B) {
				dsn := benchDSN(b, be)
				db, err := sqlstore.Open(context.Background(), dsn, nil)
				require.NoError(b, err)
				defer db.Close()
				st := db.AuditStore()
				ctx := context.Background()
				g := newEntryGen(9)
				// Batches are built beforehand: their hashes are the Logger's
				// work, not the store's.
				mem := audit.NewMemStore()
				batches := make([]audit.Batch, b.N)
				for i := range batches {
					batch, err := batchAt(ctx, mem, int64(i*size), g.entries(size))
					require.NoError(b, err)
					require.NoError(b, mem.Append(ctx, batch))
					batches[i] = batch
				}
				b.ResetTimer()
				for _, batch := range batches {
					if err := st.Append(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}

// benchDSN makes the DSN of a fresh database of be's dialect, or skips b.
func benchDSN(b *testing.B, be backend) string {
	if be.name == "Postgres" {
		return pgtest.DSN(b)
	}
	return "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
}

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

// A Query for an actor or subject that the database cannot hold as text
// (on PostgreSQL: invalid UTF-8, or a NUL byte; Append refuses such
// entries) matches no entry, as on audit.MemStore and SQLite, rather than
// failing with the database's encoding error.
func TestAuditStoreQueryTextNoEntryCanHold(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := open(t, be.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		appendBoth(t, newEntryGen(3), 20, s, mem)
		for _, f := range []audit.Filter{
			{ActorID: "al\x00ice"},
			{Subject: "h:\xff"},
			{ActorID: "alice", Subject: "h:s1\x00"},
			{ActorID: "al\x00ice", Action: "auth.login"},
		} {
			f.After, f.Limit = -1, 10
			want, err := mem.Query(ctx, f)
			require.NoError(t, err)
			got, err := s.Query(ctx, f)
			require.NoError(t, err, "ActorID %q, Subject %q", f.ActorID, f.Subject)
			require.Equal(t, len(want), len(got))
		}
	})
}

// ReadHashes of an index that no log can hold, the largest int64 among
// them, returns an error matching audit.ErrNotFound, as for any index
// never stored, rather than spinning for ever (tlog.SplitStoredHashIndex
// never returns for it).
func TestAuditStoreReadHashesHugeIndex(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := open(t, be.dsn(t)).AuditStore()
		appendBoth(t, newEntryGen(3), 5, s, audit.NewMemStore())
		for _, x := range []int64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, math.MinInt64} {
			done := make(chan error, 1)
			go func() {
				_, err := s.ReadHashes(ctx, []int64{0, x})
				done <- err
			}()
			select {
			case err := <-done:
				require.ErrorIs(t, err, audit.ErrNotFound, "index %d", x)
			case <-time.After(10 * time.Second):
				t.Fatalf("ReadHashes of index %d has not returned after 10 s", x)
			}
		}
	})
}
