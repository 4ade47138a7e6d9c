package audit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// gatedStore holds every Append until released.
type gatedStore struct {
	*MemStore
	gate chan struct{}
}

func (s *gatedStore) Append(ctx context.Context, b Batch) error {
	<-s.gate
	return s.MemStore.Append(ctx, b)
}

// Under overload, memory stays bounded: Durable callers wait for room
// rather than queueing without limit.
func TestQueueIsBoundedUnderOverload(t *testing.T) {
	store := &gatedStore{MemStore: NewMemStore(), gate: make(chan struct{})}
	l, err := New(store, &Options{HashKey: make([]byte, 32), BufferSize: 8, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if err := l.Record(ctx, Event{Action: "test.event"}); err != nil {
				t.Error(err)
			}
		})
	}
	// Let the writers pile up against the gated store.
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		n := len(l.queue)
		l.mu.Unlock()
		if n > 8 {
			t.Fatalf("queue holds %d events, bound is 8", n)
		}
		time.Sleep(time.Millisecond)
	}
	close(store.gate)
	wg.Wait()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := store.Size(ctx); n != 100 {
		t.Fatalf("stored %d events, want 100", n)
	}
}
