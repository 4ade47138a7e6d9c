package audit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// A FailClosed caller that leads the flush learns of a store failure at
// once, even when the batch it stored also held events that must be
// retried (here the gap record counting a dropped Buffered event): it is
// not kept retrying them until the store comes back.
func TestFailClosedLeaderReturnsAtOnceWhileOthersAreRetried(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), FlushDelay: time.Hour,
		Policies: map[string]audit.Policy{"metrics": audit.Buffered, "change": audit.FailClosed}})
	require.NoError(t, err)
	store.failing.Store(true)
	require.NoError(t, l.Record(ctx, audit.Event{Class: "metrics", Action: "page.view"})) // queued

	done := make(chan error, 1)
	go func() { done <- l.Record(ctx, audit.Event{Class: "change", Action: "customer.delete"}) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, errStoreDown)
	case <-time.After(3 * time.Second):
		t.Error("the FailClosed Record has not returned 3s after the store failed: it is retrying others' events")
		store.failing.Store(false)
		<-done
	}
	store.failing.Store(false)
	require.NoError(t, l.Close(ctx))
	var actions []string
	for _, e := range storedEntries(t, store) {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []string{audit.GapAction}, actions, "the dropped event is counted; the failed one is not stored")
}
