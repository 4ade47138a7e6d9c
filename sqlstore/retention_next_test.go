package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// spyTarget counts the calls of a target's methods.
type spyTarget struct {
	retention.Target
	mu                  sync.Mutex
	candidates, next    int
	nextIDs             []string
	unsupportedNextSeen bool
}

func (s *spyTarget) Candidates(ctx context.Context, q retention.Query) ([]retention.Candidate, error) {
	s.mu.Lock()
	s.candidates++
	s.mu.Unlock()
	return s.Target.Candidates(ctx, q)
}

func (s *spyTarget) DisposeNext(ctx context.Context, b retention.Batch) ([]string, error) {
	done, err := s.Target.(retention.NextDisposer).DisposeNext(ctx, b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.nextIDs = append(s.nextIDs, done...)
	s.unsupportedNextSeen = s.unsupportedNextSeen || errors.Is(err, errors.ErrUnsupported)
	return done, err
}

func (s *spyTarget) reset() {
	s.mu.Lock()
	s.candidates, s.next, s.nextIDs, s.unsupportedNextSeen = 0, 0, nil, false
	s.mu.Unlock()
}

// TestTableTargetDisposeNext: on each backend, a sweep of a data set that
// no hold can cover deletes through DisposeNext, without listing, exactly
// what Plan said, in order of ID; with a hold, or for another action, it
// lists and disposes, as before.
func TestTableTargetDisposeNext(t *testing.T) {
	const rows = 8000 // some not due
	due := int(retentionNow.AddDate(0, -2, 0).Sub(retentionNow.AddDate(-1, 0, 0))/time.Hour) + 1
	eachBackend(t, func(t *testing.T, b backend) {
		t.Run("delete", func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.dsn(t))
			makeForms(t, db, rows)
			tt, err := db.TableTarget(ctx, formsTable)
			require.NoError(t, err)
			spy := &spyTarget{Target: tt}
			sw := formsSweeper(t, db, spy, retention.Delete, &retention.Options{BatchSize: 97})
			plan, err := sw.Plan(ctx)
			require.NoError(t, err)
			spy.reset()
			rep, err := sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, plan, rep)
			assert.Equal(t, 0, spy.candidates, "a sweep that nothing can hold does not list")
			assert.Equal(t, min(due, rows)/97+1, spy.next)
			require.Less(t, due, rows)
			assert.Len(t, rep.Policies[0].Disposed, due)
			assert.True(t, slices.IsSortedFunc(spy.nextIDs, func(a, b string) int {
				x, _ := strconv.Atoi(a)
				y, _ := strconv.Atoi(b)
				return x - y
			}), "in order of ID")
			assert.Equal(t, rows-len(rep.Policies[0].Disposed), countRows(t, db, "1 = 1"))
			again, err := sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Empty(t, again.Policies[0].Disposed, "nothing is disposed of twice")
		})
		t.Run("held", func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.dsn(t))
			makeForms(t, db, rows)
			tt, err := db.TableTarget(ctx, formsTable)
			require.NoError(t, err)
			spy := &spyTarget{Target: tt}
			sw := formsSweeper(t, db, spy, retention.Delete, &retention.Options{BatchSize: 97})
			_, err = sw.PlaceHold(ctx, retention.Hold{Dataset: "web_forms", Record: "7", Reason: "complaint"})
			require.NoError(t, err)
			plan, err := sw.Plan(ctx)
			require.NoError(t, err)
			rep, err := sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, plan, rep)
			assert.Equal(t, 0, spy.next, "a record hold makes the sweep list")
			assert.Equal(t, []retention.HeldRecord{{ID: "7", Hold: rep.Policies[0].Held[0].Hold}}, rep.Policies[0].Held)
			assert.Equal(t, 1, countRows(t, db, "id = 7"))
			assert.Equal(t, rows-len(rep.Policies[0].Disposed), countRows(t, db, "1 = 1"))
		})
		t.Run("anonymise", func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.dsn(t))
			makeForms(t, db, 500)
			tt, err := db.TableTarget(ctx, formsTable)
			require.NoError(t, err)
			_, err = tt.DisposeNext(ctx, retention.Batch{Dataset: "web_forms", Action: retention.Anonymise,
				Query: retention.Query{Dataset: "web_forms", Since: retention.SinceCreated, Cutoff: retentionNow, Limit: 10}})
			require.ErrorIs(t, err, errors.ErrUnsupported)
			spy := &spyTarget{Target: tt}
			sw := formsSweeper(t, db, spy, retention.Anonymise, &retention.Options{BatchSize: 97})
			plan, err := sw.Plan(ctx)
			require.NoError(t, err)
			rep, err := sw.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, plan, rep)
			assert.True(t, spy.unsupportedNextSeen)
			assert.Equal(t, len(rep.Policies[0].Disposed), countRows(t, db, "disposed IS NOT NULL"))
		})
	})
}

// TestTableTargetDisposeNextSkipLocked: on PostgreSQL, four DisposeNext of
// the same batch at once dispose of each row once, and a row locked by
// the host is skipped, not waited for.
func TestTableTargetDisposeNextSkipLocked(t *testing.T) {
	backends[1].available(t)
	ctx := context.Background()
	db := open(t, backends[1].dsn(t))
	makeForms(t, db, 100)
	tt, err := db.TableTarget(ctx, formsTable)
	require.NoError(t, err)
	q := retention.Query{Dataset: "web_forms", Since: retention.SinceCreated, Cutoff: retentionNow, Limit: 40}
	disposeAroundALockedRow(t, db, func() []string {
		done, err := tt.DisposeNext(ctx, retention.Batch{Dataset: "web_forms", Action: retention.Delete, Query: q})
		assert.NoError(t, err)
		assert.LessOrEqual(t, len(done), 40)
		return done
	})
}

// TestTableTargetDisposeNextOddKeys: on SQLite, which keeps any value in
// any column, a batch with a key that is not an integer, or is NULL, is
// left to the sweeper's listing (errors.ErrUnsupported), with nothing
// deleted.
func TestTableTargetDisposeNextOddKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t, backends[0].dsn(t))
	_, err := db.SQL().Exec(`CREATE TABLE odd (id BIGINT PRIMARY KEY, subject TEXT, created INTEGER NOT NULL)`)
	require.NoError(t, err)
	at := retentionNow.AddDate(-1, 0, 0).UnixMicro()
	_, err = db.SQL().Exec(`INSERT INTO odd VALUES (1, 's', ?), (2, 's', ?), ('x 9', 's', ?), (NULL, 's', ?)`, at, at, at, at)
	require.NoError(t, err)
	tt, err := db.TableTarget(ctx, sqlstore.Table{Table: "odd", ID: "id", Subject: "subject", Created: "created"})
	require.NoError(t, err)
	next := func(after string, limit int) ([]string, error) {
		return tt.DisposeNext(ctx, retention.Batch{Dataset: "odd", Action: retention.Delete,
			Query: retention.Query{Dataset: "odd", Since: retention.SinceCreated, Cutoff: retentionNow, After: after, Limit: limit}})
	}
	count := func() int {
		var n int
		require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM odd`).Scan(&n))
		return n
	}
	_, err = next("", 10) // NULL first
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Equal(t, 4, count())
	_, err = next("0", 10) // 'x 9' last
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Equal(t, 4, count())
	done, err := next("0", 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2"}, done)
	assert.Equal(t, 2, count())
}
