package audit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// flakyStore fails every Append while failing is set, and can hold appends
// until released.
type flakyStore struct {
	*audit.MemStore
	failing atomic.Bool
	gate    chan struct{} // when non-nil, Append waits for it to close
	appends atomic.Int64
}

var errStoreDown = errors.New("store is down")

func (s *flakyStore) Append(ctx context.Context, b audit.Batch) error {
	s.appends.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.failing.Load() {
		return errStoreDown
	}
	return s.MemStore.Append(ctx, b)
}

func storedEntries(t *testing.T, s audit.Store) []audit.Entry {
	n, err := s.Size(ctx)
	require.NoError(t, err)
	entries, err := s.ReadEntries(ctx, 0, int(n))
	require.NoError(t, err)
	return entries
}

func TestFailClosedReturnsTheStoreError(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Policies: map[string]audit.Policy{"change": audit.FailClosed}})
	require.NoError(t, err)
	store.failing.Store(true)
	err = l.Record(ctx, audit.Event{Class: "change", Action: "customer.delete"})
	require.ErrorIs(t, err, errStoreDown, "the host learns at once, and can refuse the action")
	store.failing.Store(false)
	require.NoError(t, l.Record(ctx, audit.Event{Class: "change", Action: "customer.delete"}))
	require.NoError(t, l.Close(ctx))
	assert.Len(t, storedEntries(t, store), 1, "the failed event was not stored later behind the caller's back")
}

func TestDurableWaitsAndRetries(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore()}
	var reported atomic.Int64
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), OnError: func(error) { reported.Add(1) }})
	require.NoError(t, err)
	store.failing.Store(true)
	done := make(chan error)
	go func() { done <- l.Record(ctx, audit.Event{Action: "auth.login"}) }()
	require.Eventually(t, func() bool { return store.appends.Load() >= 2 }, 10*time.Second, time.Millisecond, "the Logger retries")
	select {
	case err := <-done:
		t.Fatalf("Record returned %v while the store was down", err)
	default:
	}
	store.failing.Store(false)
	require.NoError(t, <-done)
	assert.Positive(t, reported.Load(), "retries are reported through OnError")
	require.NoError(t, l.Close(ctx))
	assert.Len(t, storedEntries(t, store), 1)
}

func TestDurableRecordHonoursItsContext(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore(), gate: make(chan struct{})}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	// The first caller leads the flush, held at the store's gate; the
	// second waits for it, until its context ends.
	go func() { _ = l.Record(ctx, audit.Event{Action: "first"}) }()
	require.Eventually(t, func() bool { return store.appends.Load() == 1 }, 5*time.Second, time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = l.Record(cctx, audit.Event{Action: "second"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(store.gate)
	require.NoError(t, l.Close(ctx))
}

// A Buffered event that cannot be kept is counted, and the count is stored
// as a gap record: a drop is never silent. Memory stays bounded.
func TestBufferedDropsAreCountedInAGapRecord(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore(), gate: make(chan struct{})}
	l, err := audit.New(store, &audit.Options{
		HashKey: make([]byte, 32), BufferSize: 10, FlushDelay: time.Millisecond,
		Policies: map[string]audit.Policy{"http": audit.Buffered},
	})
	require.NoError(t, err)
	// Hold the first flush at the store, then overflow the buffer.
	require.NoError(t, l.Record(ctx, audit.Event{Class: "http", Action: "http.request", RequestID: "0"}))
	require.Eventually(t, func() bool { return store.appends.Load() == 1 }, 5*time.Second, time.Millisecond)
	for i := 1; i <= 100; i++ {
		require.NoError(t, l.Record(ctx, audit.Event{Class: "http", Action: "http.request", RequestID: strconv.Itoa(i)}))
	}
	close(store.gate)
	require.NoError(t, l.Close(ctx))

	entries := storedEntries(t, store)
	var gaps, kept int
	for _, e := range entries {
		if e.Action == audit.GapAction {
			gaps++
		} else {
			kept++
		}
	}
	require.Equal(t, 1, gaps, "one gap record")
	assert.Equal(t, 11, kept, "the held event and a full buffer of 10")
	gap, _, err := l.Query(ctx, audit.Query{Action: audit.GapAction})
	require.NoError(t, err)
	require.Len(t, gap, 1)
	assert.Equal(t, audit.Attr{Key: "dropped", Value: "90"}, gap[0].Metadata[0])
}

func TestBufferedEventsAreFlushedWithoutFurtherRecords(t *testing.T) {
	store := audit.NewMemStore()
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), DefaultPolicy: audit.Buffered, FlushDelay: 5 * time.Millisecond})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { require.NoError(t, l.Record(ctx, audit.Event{Action: "http.request"})) })
	}
	wg.Wait()
	require.Eventually(t, func() bool { n, _ := store.Size(ctx); return n == 5 }, 5*time.Second, time.Millisecond)
	require.NoError(t, l.Close(ctx))
}

func TestRecordAfterClose(t *testing.T) {
	l, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	require.NoError(t, l.Close(ctx))
	require.ErrorIs(t, l.Record(ctx, audit.Event{Action: "late"}), audit.ErrClosed)
}

// A caller whose own event is being retried (it led the flush when the
// store went down) stops waiting when its context ends; the event is
// stored once the store is back.
func TestDurableLeaderHonoursItsContext(t *testing.T) {
	store := &flakyStore{MemStore: audit.NewMemStore()}
	store.failing.Store(true)
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = l.Record(cctx, audit.Event{Action: "auth.login"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	store.failing.Store(false)
	require.NoError(t, l.Close(ctx))
	assert.Len(t, storedEntries(t, store), 1, "the event was stored once the store came back")
}

// lostReplyStore stores the first batch it is given, then reports an error
// as if the commit's reply had been lost.
type lostReplyStore struct {
	*audit.MemStore
	lost atomic.Bool
}

func (s *lostReplyStore) Append(ctx context.Context, b audit.Batch) error {
	if err := s.MemStore.Append(ctx, b); err != nil {
		return err
	}
	if s.lost.CompareAndSwap(false, true) {
		return errors.New("connection reset after commit")
	}
	return nil
}

// A batch whose append failed may have been stored all the same; the retry
// finds it and does not store it twice.
func TestRetryAfterALostReplyStoresOnce(t *testing.T) {
	store := &lostReplyStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	require.NoError(t, l.Record(ctx, audit.Event{Action: "auth.login"}))
	require.NoError(t, l.Record(ctx, audit.Event{Action: "auth.logout"}))
	require.NoError(t, l.Close(ctx))
	entries := storedEntries(t, store)
	require.Len(t, entries, 2, "each event once")
	assert.Equal(t, []string{"auth.login", "auth.logout"}, []string{entries[0].Action, entries[1].Action})
	_, err = audit.Verify(ctx, store, nil)
	require.NoError(t, err)
}

// A batch whose append failed but was stored all the same is retried
// without the events whose callers were already told (Buffered ones are
// counted as dropped, FailClosed ones fail): the retry still finds it
// stored, and does not store its Durable events twice.
func TestRetryOfWhatRemainsOfALostReplyStoresOnce(t *testing.T) {
	store := &lostReplyStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), FlushDelay: time.Hour,
		Policies: map[string]audit.Policy{"metrics": audit.Buffered}})
	require.NoError(t, err)
	require.NoError(t, l.Record(ctx, audit.Event{Class: "metrics", Action: "page.view"})) // queued
	require.NoError(t, l.Record(ctx, audit.Event{Action: "customer.update"}))             // stored with it
	require.NoError(t, l.Close(ctx))
	n := 0
	for _, e := range storedEntries(t, store) {
		if e.Action == "customer.update" {
			n++
		}
	}
	assert.Equal(t, 1, n, "the durable event is stored once")
	_, err = audit.Verify(ctx, store, nil)
	require.NoError(t, err)
}
