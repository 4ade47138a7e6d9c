// Package follow holds the loop by which a package's concrete type follows
// its Store (consent.Ledger.Run, rbac.Authorizer.Run): watch, retry with a
// growing delay, or poll when the Store cannot watch; and the watchers of
// the stores in memory.
package follow

import (
	"context"
	"sync"
	"time"
)

// Loop calls once until ctx is done, and returns ctx's error. Each time
// once returns while ctx is not done, Loop reports the error to onError (if
// not nil) and waits before calling it again: 100ms, doubling up to 30s.
func Loop(ctx context.Context, once func(ctx context.Context) error, onError func(error)) error {
	delay := 100 * time.Millisecond
	for {
		err := once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// Poll sends on changed, without blocking, at once and then every interval
// until ctx is done; it returns ctx's error. It stands in for a Store's
// Watch when the Store has none.
func Poll(ctx context.Context, every time.Duration, changed chan<- struct{}) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case changed <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Watchers is the set of channels that the Watch of a store in memory
// signals when the store changes. The zero value is empty and ready to use;
// it is safe for concurrent use.
type Watchers struct {
	mu sync.Mutex
	m  map[chan<- struct{}]struct{}
}

// Notify signals every watcher, without blocking: a watcher whose channel
// is full has a signal pending already.
func (w *Watchers) Notify() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.m {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Watch adds changed to the set until ctx is done, signals it once at
// once (a change may have come before the watch began), and returns ctx's
// error: the body of a Watcher's Watch.
func (w *Watchers) Watch(ctx context.Context, changed chan<- struct{}) error {
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[chan<- struct{}]struct{})
	}
	w.m[changed] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.m, changed)
		w.mu.Unlock()
	}()
	select {
	case changed <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}
