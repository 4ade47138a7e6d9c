package sqlstore

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// countingCtx counts the calls of Err, and from call failAt on (if
// positive) reports the context canceled: a deadline that passes at a
// chosen point of an append. Its Done channel never closes, so that
// nothing but those checks sees it.
type countingCtx struct {
	context.Context
	calls  atomic.Int64
	failAt int64
}

func (c *countingCtx) Done() <-chan struct{} { return nil }

func (c *countingCtx) Err() error {
	if n := c.calls.Add(1); c.failAt > 0 && n >= c.failAt {
		return context.Canceled
	}
	return nil
}

// Append stores its batch and makes it durable, or on error stores
// nothing, as audit.Store requires: a context that ends once the batch is
// committed, where only the sync of the log remains (which a context
// cannot interrupt), must not turn a stored batch into an error, which
// tells the caller nothing was stored.
func TestAuditAppendCanceledAfterCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	s := db.AuditStore()
	mem := audit.NewMemStore()
	next := int64(0)
	// Warm up (the writer's connection, its prepared statements), then
	// count the checks of one Append.
	for range 3 {
		require.NoError(t, s.Append(ctx, oneEntryBatch(t, mem, next)))
		next++
	}
	var counts []int64
	for range 3 {
		c := &countingCtx{Context: ctx}
		require.NoError(t, s.Append(c, oneEntryBatch(t, mem, next)))
		next++
		counts = append(counts, c.calls.Load())
	}
	require.Equal(t, counts[0], counts[1], "the checks of an append are deterministic")
	require.Equal(t, counts[0], counts[2], "the checks of an append are deterministic")

	// The context ends at each of those checks in turn, the last one
	// after the commit: Append fails exactly when it stores nothing.
	for failAt := int64(1); failAt <= counts[0]; failAt++ {
		c := &countingCtx{Context: ctx, failAt: failAt}
		b := oneEntryBatch(t, mem, next) // also appended to mem
		err := s.Append(c, b)
		size, serr := s.Size(ctx)
		require.NoError(t, serr)
		if err != nil {
			require.Equal(t, next, size, "at check %d of %d, Append returned %q, yet stored the batch", failAt, counts[0], err)
			// Undo mem's copy: make mem anew up to next.
			mem = audit.NewMemStore()
			for i := range next {
				oneEntryBatch(t, mem, i)
			}
			continue
		}
		require.Equal(t, next+1, size, "at check %d, Append returned nil", failAt)
		next++
	}
}
