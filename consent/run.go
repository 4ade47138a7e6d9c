package consent

import (
	"context"
	"fmt"
	"time"

	"github.com/dataward/dataward/internal/follow"
)

// followPage is how many records Run reads at a time when catching up.
const followPage = 1000

// Run follows the Store, so that choices recorded by other processes reach
// this Ledger's cache within a second, and checks answered from the cache
// need not read the Store again. It blocks until ctx is done and then
// returns ctx's error; the caller owns the goroutine:
//
//	go ledger.Run(ctx)
//
// With a Store that is a [Watcher] (such as sqlstore's, which uses
// PostgreSQL's LISTEN/NOTIFY), Run waits for its signals; with another, it
// polls every quarter of Options.MaxStale (at most every 250ms). If watching
// fails, Run reports the error to Options.OnError, falls back to
// reading the Store for checks as if it were not running, and tries again
// with a growing delay (up to 30s).
func (l *Ledger) Run(ctx context.Context) error {
	cursor := int64(-1) // not known yet
	return follow.Loop(ctx, func(ctx context.Context) error {
		defer l.follow.Store(false)
		return l.followOnce(ctx, &cursor)
	}, l.onError)
}

// Following reports whether Run is following the Store, so that checks are
// answered from the cache alone.
func (l *Ledger) Following() bool { return l.follow.Load() }

// followOnce watches the Store and applies what it tells until watching
// fails or ctx is done.
func (l *Ledger) followOnce(ctx context.Context, cursor *int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	errc := make(chan error, 1)
	if w, ok := l.store.(Watcher); ok {
		go func() { errc <- w.Watch(ctx, l.tenant, changed) }()
	} else {
		go func() { errc <- follow.Poll(ctx, l.pollInterval(), changed) }()
	}
	for {
		select {
		case err := <-errc:
			if err == nil {
				err = fmt.Errorf("consent: the store stopped watching")
			}
			return err
		case <-changed:
		}
		if err := l.catchUp(ctx, cursor); err != nil {
			return err
		}
		l.follow.Store(true)
	}
}

func (l *Ledger) pollInterval() time.Duration {
	if l.maxStale <= 0 {
		return 250 * time.Millisecond
	}
	return min(time.Duration(l.maxStale)/4, 250*time.Millisecond)
}

// catchUp applies the records added since *cursor to the cache. The first
// time, when the cursor is not known, it starts from the Store's head and
// empties the cache, whose entries may predate it.
func (l *Ledger) catchUp(ctx context.Context, cursor *int64) error {
	if *cursor < 0 {
		head, err := l.store.Head(ctx, l.tenant)
		if err != nil {
			return fmt.Errorf("consent: reading the ledger's head: %w", err)
		}
		l.cache.clear()
		*cursor = head
		return nil
	}
	for {
		recs, err := l.store.Since(ctx, l.tenant, *cursor, followPage)
		if err != nil {
			return fmt.Errorf("consent: following the ledger: %w", err)
		}
		reg := l.reg.Load()
		for _, r := range recs {
			l.cache.apply(reg, r)
			*cursor = r.Seq
		}
		if len(recs) < followPage {
			return nil
		}
	}
}

// Warm reads the whole ledger and caches the state of every subject in it
// (up to Options.CacheSize subjects), so that the first checks after start
// need not read the Store. Start Run first when the Ledger will follow the
// Store: Run empties the cache when it starts following.
func (l *Ledger) Warm(ctx context.Context) error {
	reg := l.reg.Load()
	loaded := monotonic()
	// The counts of changes are read before the head: a change applied
	// after it, which the records up to the head may not hold, keeps its
	// subject's states from being cached.
	gens := l.cache.generations()
	head, err := l.store.Head(ctx, l.tenant)
	if err != nil {
		return fmt.Errorf("consent: reading the ledger's head: %w", err)
	}
	subjects := make(map[string][]state)
	for after := int64(0); after < head; {
		recs, err := l.store.Since(ctx, l.tenant, after, MaxPage)
		if err != nil {
			return fmt.Errorf("consent: reading the ledger: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			after = r.Seq
			if r.Seq > head {
				break
			}
			i, ok := reg.index[r.Purpose]
			if !ok {
				continue
			}
			states := subjects[string(r.Subject)]
			if states == nil {
				states = make([]state, len(reg.purposes))
				subjects[string(r.Subject)] = states
			}
			states[i].apply(r)
		}
	}
	l.cache.putAll(subjects, loaded, gens)
	return nil
}
