package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward/audit"
)

// syncStore is a MemStore made an audit.SyncStore: it counts the entries
// that AppendUnsynced stored and those that a Sync has since covered, and
// can fail Syncs.
type syncStore struct {
	*audit.MemStore
	mu               sync.Mutex
	stored, durable  int64
	appends, syncs   int
	failSyncs        int // the next Syncs to fail
	plainAppendCalls atomic.Int64
}

var errSyncFailed = errors.New("sync failed")

func (s *syncStore) Append(ctx context.Context, b audit.Batch) error {
	s.plainAppendCalls.Add(1)
	if err := s.AppendUnsynced(ctx, b); err != nil {
		return err
	}
	return s.Sync(ctx)
}

func (s *syncStore) AppendUnsynced(ctx context.Context, b audit.Batch) error {
	if err := s.MemStore.Append(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stored += int64(len(b.Entries))
	s.appends++
	return nil
}

func (s *syncStore) Sync(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failSyncs > 0 {
		s.failSyncs--
		return errSyncFailed
	}
	s.durable = s.stored
	s.syncs++
	return nil
}

func (s *syncStore) durableEntries() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable
}

func TestSyncStoreRecordReturnsOnceDurable(t *testing.T) {
	store := &syncStore{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), MaxBatch: 8})
	require.NoError(t, err)
	const writers, each = 16, 40
	var returned atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Record(ctx, audit.Event{Action: "test.sync", RequestID: string(rune('a'+w)) + string(rune('a'+i))}); err != nil {
					t.Error(err)
					return
				}
				// Every event whose Record returned is durable: the log
				// is ordered, so at least that many entries are.
				n := returned.Add(1)
				if d := store.durableEntries(); d < n {
					t.Errorf("%d Records returned, but only %d entries are durable", n, d)
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close(ctx))
	assert.Equal(t, int64(writers*each), store.durableEntries())
	assert.Zero(t, store.plainAppendCalls.Load(), "the Logger stores through AppendUnsynced")
	r, err := audit.Verify(ctx, store, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(writers*each), r.Size)
}

func TestSyncStoreFailedSync(t *testing.T) {
	store := &syncStore{MemStore: audit.NewMemStore()}
	var told atomic.Int64
	l, err := audit.New(store, &audit.Options{
		HashKey:  make([]byte, 32),
		Policies: map[string]audit.Policy{"change": audit.FailClosed},
		OnError:  func(error) { told.Add(1) },
	})
	require.NoError(t, err)

	store.failSyncs = 1
	err = l.Record(ctx, audit.Event{Class: "change", Action: "customer.delete"})
	require.ErrorIs(t, err, errSyncFailed, "a FailClosed caller learns that its event may not be durable")

	store.failSyncs = 2
	require.NoError(t, l.Record(ctx, audit.Event{Action: "customer.update"}), "a Durable event waits for a Sync that succeeds")
	assert.Equal(t, int64(2), store.durableEntries())
	assert.GreaterOrEqual(t, told.Load(), int64(3), "OnError is told of each failed Sync")
	require.NoError(t, l.Close(ctx))
}

// blockingSyncStore is a syncStore whose Syncs wait for release (closed)
// once block is set.
type blockingSyncStore struct {
	syncStore
	block   atomic.Bool
	release chan struct{}
	inSync  atomic.Int64
}

func (s *blockingSyncStore) Sync(ctx context.Context) error {
	if s.block.Load() {
		s.inSync.Add(1)
		<-s.release
		s.inSync.Add(-1)
	}
	return s.syncStore.Sync(ctx)
}

func (s *blockingSyncStore) unsynced() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored - s.durable
}

// syncLoopRunning reports whether a goroutine runs the Logger's syncLoop,
// waiting a little for one that is returning.
func syncLoopRunning() bool {
	buf := make([]byte, 1<<20)
	for range 100 {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte("audit.(*Logger).syncLoop")) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// While a Sync hangs, the Logger stores at most one batch ahead of it, and
// the queue stays bounded: Buffered events beyond it are dropped, and
// counted. Close waits for the syncing goroutine (not for a timer), and
// leaves none running.
func TestSyncStoreSlowSyncBoundsAndClose(t *testing.T) {
	store := &blockingSyncStore{syncStore: syncStore{MemStore: audit.NewMemStore()}, release: make(chan struct{})}
	store.block.Store(true)
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), MaxBatch: 8, BufferSize: 16,
		FlushDelay: time.Millisecond, DefaultPolicy: audit.Buffered})
	require.NoError(t, err)
	for i := range 2000 {
		require.NoError(t, l.Record(ctx, audit.Event{Action: "page.view", RequestID: fmt.Sprint(i)}))
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // let the flusher run
		}
	}
	require.Eventually(t, func() bool { return store.inSync.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.LessOrEqual(t, store.unsynced(), int64(2*(8+1)), "stored ahead of a hanging Sync: two batches at most")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Close(short), context.DeadlineExceeded, "Close waits for the hanging Sync")
	close(store.release)
	require.NoError(t, l.Close(ctx))
	assert.Zero(t, store.unsynced(), "Close returns once what was stored is synced")
	assert.False(t, syncLoopRunning(), "no syncing goroutine outlives Close")

	r, err := audit.Verify(ctx, store, nil)
	require.NoError(t, err)
	entries, err := store.ReadEntries(ctx, 0, int(r.Size))
	require.NoError(t, err)
	gaps := 0
	for _, e := range entries {
		if e.FromData() && e.Action == audit.GapAction {
			gaps++
		}
	}
	assert.Less(t, r.Size, int64(2000), "events were dropped while the Sync hung")
	assert.Positive(t, gaps, "and counted in a gap record")
}

// A store that is not a SyncStore is appended to with Append, and the
// Logger starts no syncing goroutine.
func TestPlainStoreHasNoSyncLoop(t *testing.T) {
	store := &plainCounting{MemStore: audit.NewMemStore()}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				assert.NoError(t, l.Record(ctx, audit.Event{Action: "test.plain"}))
			}
		})
	}
	wg.Wait()
	assert.False(t, syncLoopRunning())
	require.NoError(t, l.Close(ctx))
	assert.EqualValues(t, 160, store.stored.Load())
}

type plainCounting struct {
	*audit.MemStore
	stored atomic.Int64
}

func (s *plainCounting) Append(ctx context.Context, b audit.Batch) error {
	if err := s.MemStore.Append(ctx, b); err != nil {
		return err
	}
	s.stored.Add(int64(len(b.Entries)))
	return nil
}

// checkpointSyncStore is a syncStore that records, for each checkpoint
// added, how many entries were durable then.
type checkpointSyncStore struct {
	syncStore
	added []int64 // durable entries minus the checkpoint's size
}

func (s *checkpointSyncStore) AddCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	s.added = append(s.added, s.durableEntries()-c.Size)
	return s.syncStore.AddCheckpoint(ctx, c)
}

// A checkpoint never covers entries that no Sync has made durable: one
// signed over entries that a crash then lost would make the surviving log
// look truncated.
func TestSyncStoreCheckpointIsDurable(t *testing.T) {
	store := &checkpointSyncStore{syncStore: syncStore{MemStore: audit.NewMemStore()}}
	skey, _, err := note.GenerateKey(rand.Reader, "sync.test")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Signer: signer, CheckpointEvery: 1})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				assert.NoError(t, l.Record(ctx, audit.Event{Action: "a.b"}))
			}
		})
	}
	wg.Wait()
	_, err = l.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Close(ctx)) // the flushing role and the checkpoints are done
	require.NotEmpty(t, store.added)
	for i, d := range store.added {
		assert.GreaterOrEqual(t, d, int64(0), "checkpoint %d covers %d entries not yet durable", i, -d)
	}
}

// gatedSyncStore is a syncStore whose appends wait until gate is closed,
// and whose Syncs each wait for a value on release.
type gatedSyncStore struct {
	syncStore
	gate    chan struct{}
	release chan struct{}
	inSync  atomic.Int64
}

func (s *gatedSyncStore) AppendUnsynced(ctx context.Context, b audit.Batch) error {
	<-s.gate
	return s.syncStore.AppendUnsynced(ctx, b)
}

func (s *gatedSyncStore) Sync(ctx context.Context) error {
	s.inSync.Add(1)
	defer s.inSync.Add(-1)
	<-s.release
	return s.syncStore.Sync(ctx)
}

func (s *gatedSyncStore) appendCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appends
}

// waitingInRecord waits until n goroutines wait in Logger.Record: for their
// events to be stored, or (the caller that flushes) for the store.
func waitingInRecord(t *testing.T, n int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	require.Eventually(t, func() bool {
		stacks := buf[:runtime.Stack(buf, true)]
		waiting := 0
		for g := range bytes.SplitSeq(stacks, []byte("\n\n")) {
			blocked := bytes.Contains(g, []byte("[select")) || bytes.Contains(g, []byte("[chan receive"))
			if blocked && bytes.Contains(g, []byte("audit.(*Logger).Record(")) {
				waiting++
			}
		}
		return waiting == n
	}, 5*time.Second, time.Millisecond, "%d callers waiting in Record", n)
}

// While a Sync runs, the flushing role waits for the queue to grow before
// it stores, but for no more callers than the previous Sync freed: they
// are the only ones that can come back before the running Sync ends. A
// caller that records again at once is stored while that Sync still runs,
// not after it.
func TestSyncStoreWaitsOnlyForFreedCallers(t *testing.T) {
	store := &gatedSyncStore{syncStore: syncStore{MemStore: audit.NewMemStore()},
		gate: make(chan struct{}), release: make(chan struct{})}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	record := func(id string) <-chan error {
		done := make(chan error, 1)
		go func() { done <- l.Record(ctx, audit.Event{Action: "test.freed", RequestID: id}) }()
		return done
	}

	// A's event is appended alone (the gate holds it) while B and C queue
	// behind it; then the first Sync holds A, and the second B and C.
	a := record("a1")
	waitingInRecord(t, 1)
	b, c := record("b"), record("c")
	waitingInRecord(t, 3)
	close(store.gate)
	require.Eventually(t, func() bool { return store.appendCount() == 2 && store.inSync.Load() == 1 },
		5*time.Second, time.Millisecond, "A stored and syncing, B and C stored")
	store.release <- struct{}{} // the first Sync ends: it freed one caller, A
	require.NoError(t, <-a)
	require.Eventually(t, func() bool { return store.inSync.Load() == 1 }, 5*time.Second, time.Millisecond,
		"the second Sync, of B and C, runs")

	// A records again while the Sync of B and C runs: one event is all the
	// first Sync freed, so it is stored now.
	a = record("a2")
	require.Eventually(t, func() bool { return store.appendCount() == 3 }, 5*time.Second, time.Millisecond,
		"the returning caller's event is stored while the Sync of two runs")
	assert.EqualValues(t, 1, store.inSync.Load(), "that Sync still runs")

	close(store.release) // every later Sync goes through
	for _, done := range []<-chan error{a, b, c} {
		require.NoError(t, <-done)
	}
	require.NoError(t, l.Close(ctx))
	r, err := audit.Verify(ctx, store, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 4, r.Size)
}

func (s *gatedSyncStore) storedEntries() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored
}

// A batch stored while a smaller one is synced takes the mean of the two
// sizes, and the rest of the queue waits for the next batch: callers that
// record again at once then settle into batches of equal size.
func TestSyncStoreBalancesBatches(t *testing.T) {
	store := &gatedSyncStore{syncStore: syncStore{MemStore: audit.NewMemStore()},
		gate: make(chan struct{}), release: make(chan struct{})}
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	record := func(id string) {
		wg.Go(func() { assert.NoError(t, l.Record(ctx, audit.Event{Action: "test.balance", RequestID: id})) })
	}

	record("a") // appended alone: the gate holds it while five more queue
	waitingInRecord(t, 1)
	for i := range 5 {
		record(fmt.Sprint("b", i))
	}
	waitingInRecord(t, 6)
	close(store.gate)
	require.Eventually(t, func() bool { return store.appendCount() == 2 && store.inSync.Load() == 1 },
		5*time.Second, time.Millisecond, "one batch syncing, the next stored")
	assert.EqualValues(t, 1+3, store.storedEntries(), "with one event syncing, three of the five queued are stored")

	close(store.release)
	wg.Wait()
	require.NoError(t, l.Close(ctx))
	assert.Equal(t, 3, store.appendCount(), "the other two came next")
	r, err := audit.Verify(ctx, store, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 6, r.Size)
}
