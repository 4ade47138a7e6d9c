package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

var retentionNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// makeForms creates the table web_forms with n rows, one created every
// hour from a year before retentionNow, with subjects s0..s9.
func makeForms(t testing.TB, db *sqlstore.DB, n int) {
	t.Helper()
	ts := "INTEGER"
	if db.Dialect() == sqlstore.Postgres {
		ts = "TIMESTAMPTZ"
	}
	_, err := db.SQL().Exec(`CREATE TABLE web_forms (id BIGINT PRIMARY KEY, subject TEXT, created ` + ts + ` NOT NULL, email TEXT, name TEXT, disposed ` + ts + `)`)
	require.NoError(t, err)
	_, err = db.SQL().Exec(`CREATE INDEX web_forms_created ON web_forms (created)`)
	require.NoError(t, err)
	insertForms(t, db, 0, n)
}

func insertForms(t testing.TB, db *sqlstore.DB, from, n int) {
	t.Helper()
	start := retentionNow.AddDate(-1, 0, 0)
	tx, err := db.SQL().Begin()
	require.NoError(t, err)
	ph := "?, ?, ?, ?, ?"
	if db.Dialect() == sqlstore.Postgres {
		ph = "$1, $2, $3, $4, $5"
	}
	for i := from; i < from+n; i++ {
		at := start.Add(time.Duration(i) * time.Hour / time.Duration(max(1, n/8000)))
		var arg any = at
		if db.Dialect() == sqlstore.SQLite {
			arg = at.UnixMicro()
		}
		_, err := tx.Exec("INSERT INTO web_forms (id, subject, created, email, name) VALUES ("+ph+")",
			i, fmt.Sprintf("s%d", i%10), arg, fmt.Sprintf("p%d@example.com", i), "Thandi")
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
}

func countRows(t testing.TB, db *sqlstore.DB, where string) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRow("SELECT count(*) FROM web_forms WHERE "+where).Scan(&n))
	return n
}

var formsTable = sqlstore.Table{Table: "web_forms", ID: "id", Subject: "subject", Created: "created", Disposed: "disposed"}

// TestTableTargetRefusesBadTables: bad identifiers, a missing table and
// missing columns are refused when the target is made, naming each.
func TestTableTargetRefusesBadTables(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := open(t, b.dsn(t))
		makeForms(t, db, 3)
		_, err := db.TableTarget(ctx, sqlstore.Table{Table: `web_forms"; DROP TABLE x; --`, ID: "id two", TimeUnit: "hour"})
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Equal(t, `sqlstore: invalid input: Table.Table must be an SQL identifier (letters, digits, underscores) or schema.identifier; Table.ID must be an SQL identifier (letters, digits, underscores); Table.TimeUnit must be "micro", "milli" or "second"`, err.Error())

		_, err = db.TableTarget(ctx, sqlstore.Table{Table: "no_such_table", ID: "id"})
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Contains(t, err.Error(), "Table.Table names a table that does not exist")

		_, err = db.TableTarget(ctx, sqlstore.Table{Table: "web_forms", ID: "id", Created: "created_at", Disposed: "gone"})
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Equal(t, `sqlstore: invalid input: Table.Created names column "created_at", which table web_forms does not have; Table.Disposed names column "gone", which table web_forms does not have`, err.Error())

		// A policy the table cannot carry out is refused by retention.New.
		tt, err := db.TableTarget(ctx, sqlstore.Table{Table: "web_forms", ID: "id", Created: "created"})
		require.NoError(t, err)
		p := retention.Policy{Dataset: "web_forms", Category: "user.contact", Period: "2 months", Since: retention.SinceCreated,
			Action: retention.Anonymise, Fields: []retention.FieldRule{{Field: "phone", Rule: retention.Null}}, Reason: "r"}
		_, err = retention.New(db.RetentionStore(), &retention.Schedule{Policies: []retention.Policy{p}}, map[string]retention.Target{"web_forms": tt}, nil)
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Contains(t, err.Error(), `the table target has no Disposed column; table web_forms has no column "phone"`)
		assert.Equal(t, 3, countRows(t, db, "1 = 1"), "nothing is deleted")
	})
}

func formsSweeper(t testing.TB, db *sqlstore.DB, tt retention.Target, action retention.Action, opts *retention.Options) *retention.Sweeper {
	t.Helper()
	p := retention.Policy{Dataset: "web_forms", Category: "user.contact", Period: "2 months", Since: retention.SinceCreated, Action: action, Reason: "privacy notice s4"}
	if action == retention.Anonymise {
		p.Fields = []retention.FieldRule{{Field: "email", Rule: retention.Hash}, {Field: "name", Rule: retention.Mask}}
	}
	o := retention.Options{Clock: dataward.ClockFunc(func() time.Time { return retentionNow }), HashKey: []byte("a 32-byte retention hash key...."),
		Shredder: retention.ShredderFunc(func(context.Context, dataward.SubjectID) error { return nil })}
	if opts != nil {
		o = *opts
		o.Clock = dataward.ClockFunc(func() time.Time { return retentionNow })
		o.HashKey = []byte("a 32-byte retention hash key....")
		o.Shredder = retention.ShredderFunc(func(context.Context, dataward.SubjectID) error { return nil })
	}
	sw, err := retention.New(db.RetentionStore(), &retention.Schedule{Policies: []retention.Policy{p}}, map[string]retention.Target{"web_forms": tt}, &o)
	require.NoError(t, err)
	return sw
}

// TestTableTargetSweep: on each backend, the table target deletes,
// anonymises or marks as shredded exactly the rows past their period that
// no hold covers, and Plan says so beforehand.
func TestTableTargetSweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, action := range []retention.Action{retention.Delete, retention.Anonymise, retention.Shred} {
			t.Run(string(action), func(t *testing.T) {
				ctx := context.Background()
				db := open(t, b.dsn(t))
				makeForms(t, db, 2000)
				tt, err := db.TableTarget(ctx, formsTable)
				require.NoError(t, err)
				sw := formsSweeper(t, db, tt, action, &retention.Options{BatchSize: 97})
				_, err = sw.PlaceHold(ctx, retention.Hold{Subject: "s3", Reason: "litigation"})
				require.NoError(t, err)
				_, err = sw.PlaceHold(ctx, retention.Hold{Dataset: "web_forms", Record: "7", Reason: "complaint"})
				require.NoError(t, err)
				plan, err := sw.Plan(ctx)
				require.NoError(t, err)
				rep, err := sw.Sweep(ctx)
				require.NoError(t, err)
				assert.Equal(t, plan, rep)
				// Every row is past its period; subject s3 has 200 rows,
				// and row 7 is held too. Shredding row 7's subject would
				// destroy row 7: the Shred policy holds all 200 rows of
				// that subject.
				held := 201
				if action == retention.Shred {
					held = 400
				}
				assert.Equal(t, 2000-held, len(rep.Policies[0].Disposed))
				assert.Equal(t, held, len(rep.Policies[0].Held))
				switch action {
				case retention.Delete:
					assert.Equal(t, 2000-len(rep.Policies[0].Disposed), countRows(t, db, "1 = 1"))
				default:
					assert.Equal(t, len(rep.Policies[0].Disposed), countRows(t, db, "disposed IS NOT NULL"))
				}
				if action == retention.Anonymise {
					assert.Equal(t, len(rep.Policies[0].Disposed), countRows(t, db, "name = '***' AND email LIKE 'h:%'"))
				}
				again, err := sw.Sweep(ctx)
				require.NoError(t, err)
				assert.Empty(t, again.Policies[0].Disposed, "nothing is disposed of twice")
			})
		}
	})
}

// TestTableTargetTwoSweepersPostgres: two sweepers in two pools sweep the
// same table at once, again and again while rows keep expiring: each
// batch is disposed of once, never by both, and only one sweeper holds a
// data set at a time; listing and disposing, and disposing of the next
// batch in one step (retention.NextDisposer).
func TestTableTargetTwoSweepersPostgres(t *testing.T) {
	backends[1].available(t)
	t.Run("list", func(t *testing.T) { twoSweepersPostgres(t, false) })
	t.Run("next", func(t *testing.T) { twoSweepersPostgres(t, true) })
}

func twoSweepersPostgres(t *testing.T, next bool) {
	dsn := backends[1].dsn
	ctx := context.Background()
	d := dsn(t)
	dbs := []*sqlstore.DB{open(t, d), open(t, d)}
	makeForms(t, dbs[0], 9000)

	var mu sync.Mutex
	seen := map[string]int{}
	active, overlap := 0, false
	var wg sync.WaitGroup
	for i, db := range dbs {
		tt, err := db.TableTarget(ctx, formsTable)
		require.NoError(t, err)
		c := &countingTarget{Target: tt, before: func() {
			mu.Lock()
			active++
			overlap = overlap || active > 1
			mu.Unlock()
		}, after: func(done []string) {
			mu.Lock()
			active--
			for _, id := range done {
				seen[id]++
			}
			mu.Unlock()
		}}
		var target retention.Target = c
		if next {
			target = &countingNextTarget{c}
		}
		sw := formsSweeper(t, db, target, retention.Delete, &retention.Options{BatchSize: 50, Owner: fmt.Sprintf("sweeper-%d", i), LeaseTTL: time.Hour})
		wg.Go(func() {
			for range 20 {
				_, err := sw.Sweep(ctx)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	// Rows are 1 h apart from a year before now: those created up to 2
	// months before now are due.
	due := int(retentionNow.AddDate(0, -2, 0).Sub(retentionNow.AddDate(-1, 0, 0))/time.Hour) + 1
	assert.Equal(t, due, len(seen))
	for id, n := range seen {
		require.Equal(t, 1, n, "row %s disposed of %d times", id, n)
	}
	assert.False(t, overlap, "two sweepers disposed of the same data set at once")
	assert.Equal(t, 9000-due, countRows(t, dbs[0], "1 = 1"))
}

// TestTableTargetSkipLocked: on PostgreSQL, two disposals of the same
// batch at once dispose of each row once, and a row locked by the host is
// skipped, not waited for.
func TestTableTargetSkipLocked(t *testing.T) {
	backends[1].available(t)
	ctx := context.Background()
	db := open(t, backends[1].dsn(t))
	makeForms(t, db, 100)
	tt, err := db.TableTarget(ctx, formsTable)
	require.NoError(t, err)
	q := retention.Query{Dataset: "web_forms", Since: retention.SinceCreated, Cutoff: retentionNow, Limit: 100}
	cands, err := tt.Candidates(ctx, q)
	require.NoError(t, err)
	require.Len(t, cands, 100)

	disposeAroundALockedRow(t, db, func() []string {
		done, err := tt.Dispose(ctx, retention.Batch{Dataset: "web_forms", Action: retention.Delete, Query: q, Records: cands})
		assert.NoError(t, err)
		return done
	})
}

// disposeAroundALockedRow runs dispose four times at once on PostgreSQL's
// web_forms (100 due rows) while the host holds a lock on row 5, and checks
// that together they disposed of the 99 other rows, each once, and left
// row 5 alone rather than waiting for it.
func disposeAroundALockedRow(t *testing.T, db *sqlstore.DB, dispose func() []string) {
	t.Helper()
	host, err := db.SQL().BeginTx(context.Background(), nil)
	require.NoError(t, err)
	_, err = host.Exec("UPDATE web_forms SET name = 'x' WHERE id = 5")
	require.NoError(t, err)
	var all []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			done := dispose()
			mu.Lock()
			all = append(all, done...)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.NoError(t, host.Rollback())
	slices.Sort(all)
	assert.Len(t, all, 99)
	assert.Equal(t, len(all), len(slices.Compact(slices.Clone(all))), "no row disposed of twice")
	assert.NotContains(t, all, "5")
	assert.Equal(t, 1, countRows(t, db, "1 = 1"))
}

type countingTarget struct {
	retention.Target
	before func()
	after  func([]string)
}

func (c *countingTarget) Dispose(ctx context.Context, b retention.Batch) ([]string, error) {
	c.before()
	done, err := c.Target.Dispose(ctx, b)
	c.after(done)
	return done, err
}

// countingNextTarget is a countingTarget that disposes of the next batch
// in one step.
type countingNextTarget struct{ *countingTarget }

func (c *countingNextTarget) DisposeNext(ctx context.Context, b retention.Batch) ([]string, error) {
	c.before()
	done, err := c.Target.(retention.NextDisposer).DisposeNext(ctx, b)
	c.after(done)
	return done, err
}

// TestTableTargetDisposeRechecks: Dispose disposes of the batch's rows
// that still qualify and returns exactly their IDs: a row deleted since it
// was listed, and a row whose time moved past the cutoff, are left out
// (on SQLite, the path that rolls back its first try and runs the
// statement again with RETURNING), for each action.
func TestTableTargetDisposeRechecks(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, action := range []retention.Action{retention.Delete, retention.Shred, retention.Anonymise} {
			t.Run(string(action), func(t *testing.T) {
				ctx := context.Background()
				db := open(t, b.dsn(t))
				makeForms(t, db, 10)
				tt, err := db.TableTarget(ctx, formsTable)
				require.NoError(t, err)
				q := retention.Query{Dataset: "web_forms", Since: retention.SinceCreated, Cutoff: retentionNow.AddDate(0, -2, 0), Limit: 10}
				cands, err := tt.Candidates(ctx, q)
				require.NoError(t, err)
				require.Len(t, cands, 10)
				_, err = db.SQL().Exec("DELETE FROM web_forms WHERE id = 3")
				require.NoError(t, err)
				var fresh any = retentionNow
				upd := "UPDATE web_forms SET created = $1 WHERE id = 6"
				if db.Dialect() == sqlstore.SQLite {
					fresh, upd = retentionNow.UnixMicro(), "UPDATE web_forms SET created = ? WHERE id = 6"
				}
				_, err = db.SQL().Exec(upd, fresh)
				require.NoError(t, err)
				bt := retention.Batch{Dataset: "web_forms", Action: action, Query: q, Records: cands, Now: retentionNow,
					Fields: []retention.FieldRule{{Field: "name", Rule: retention.Null}}}
				done, err := tt.Dispose(ctx, bt)
				require.NoError(t, err)
				slices.Sort(done)
				assert.Equal(t, []string{"0", "1", "2", "4", "5", "7", "8", "9"}, done)
				again, err := tt.Dispose(ctx, bt)
				require.NoError(t, err)
				assert.Empty(t, again, "nothing is disposed of twice")
				left := countRows(t, db, "disposed IS NULL")
				assert.Equal(t, 1, left, "row 6 is left")
			})
		}
	})
}

// TestTableTargetCandidatesOddValues: on SQLite, which keeps any value in
// any column, candidates are listed right whatever the values: subjects
// with spaces, non-ASCII letters or NULL, and a text value in an integer
// ID column (listed row by row instead of in one packed row).
func TestTableTargetCandidatesOddValues(t *testing.T) {
	ctx := context.Background()
	db := open(t, backends[0].dsn(t))
	_, err := db.SQL().Exec(`CREATE TABLE odd (id BIGINT PRIMARY KEY, subject TEXT, created INTEGER NOT NULL)`)
	require.NoError(t, err)
	at := retentionNow.AddDate(-1, 0, 0).UnixMicro()
	_, err = db.SQL().Exec(`INSERT INTO odd VALUES (1, 'Thandi Nkosi', ?), (2, 'Zoë 42', ?), (3, NULL, ?), (4, '', ?)`, at, at, at, at)
	require.NoError(t, err)
	tt, err := db.TableTarget(ctx, sqlstore.Table{Table: "odd", ID: "id", Subject: "subject", Created: "created"})
	require.NoError(t, err)
	q := retention.Query{Dataset: "odd", Since: retention.SinceCreated, Cutoff: retentionNow, Limit: 10}
	want := []retention.Candidate{
		{ID: "1", Subject: "Thandi Nkosi", Time: time.UnixMicro(at).UTC()},
		{ID: "2", Subject: "Zoë 42", Time: time.UnixMicro(at).UTC()},
		{ID: "3", Time: time.UnixMicro(at).UTC()},
		{ID: "4", Time: time.UnixMicro(at).UTC()},
	}
	got, err := tt.Candidates(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = db.SQL().Exec(`INSERT INTO odd VALUES ('x 9', 's', ?)`, at)
	require.NoError(t, err)
	got, err = tt.Candidates(ctx, q)
	require.NoError(t, err)
	assert.Len(t, got, 5)
	assert.Equal(t, want, got[:4])
}
