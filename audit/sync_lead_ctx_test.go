package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// With a SyncStore, a Durable caller that led the flush stops waiting when
// its context ends, while the Sync that would make its event durable keeps
// failing (as a store does for ever after an fsync error); the event is
// delivered once a Sync succeeds.
func TestSyncStoreDurableLeaderHonoursItsContext(t *testing.T) {
	store := &syncStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	store.mu.Lock()
	store.failSyncs = 1 << 30
	store.mu.Unlock()

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Record(cctx, audit.Event{Action: "auth.login"}) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(3 * time.Second):
		t.Error("Record has not returned 3s after its context ended")
	}
	store.mu.Lock()
	store.failSyncs = 0
	store.mu.Unlock()
	require.NoError(t, l.Close(ctx))
	select {
	case <-done:
	default:
	}
	assert.EqualValues(t, 1, store.durableEntries(), "the event was made durable once Syncs succeeded")
}
