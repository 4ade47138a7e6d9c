package audit_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// ReadEntries(start, math.MaxInt) reads to the end of the log: "fewer at
// the end of the log", not a panic on start+n overflowing.
func TestMemStoreReadEntriesToTheEnd(t *testing.T) {
	store := loginLog(t, 3)
	var entries []audit.Entry
	var err error
	require.NotPanics(t, func() { entries, err = store.ReadEntries(ctx, 1, math.MaxInt) })
	require.NoError(t, err)
	assert.Len(t, entries, 2)
}

// Query with After = math.MaxInt64 matches nothing: no entry has a larger
// index (After+1 must not wrap around to the start of the log).
func TestMemStoreQueryAfterMaxInt64(t *testing.T) {
	store := loginLog(t, 1)
	entries, err := store.Query(ctx, audit.Filter{After: math.MaxInt64, Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// loginLog returns a MemStore holding n logins, recorded by a Logger that
// is closed.
func loginLog(t *testing.T, n int) *audit.MemStore {
	t.Helper()
	store := audit.NewMemStore()
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	for range n {
		require.NoError(t, l.Record(ctx, audit.Event{Action: "auth.login"}))
	}
	require.NoError(t, l.Close(ctx))
	return store
}
