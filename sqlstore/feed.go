package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

const (
	// feedPollInterval is how often the feed of a Watch on SQLite looks
	// for commits of other processes (and, with a pool of one connection,
	// of other pools).
	feedPollInterval = 100 * time.Millisecond
	// feedPingInterval is how long the feed of a Watch on PostgreSQL
	// waits for a notification before it checks that its connection is
	// alive.
	feedPingInterval = 30 * time.Second

	// watchKey is the payload of a notification: the MD5 of the schema and
	// the key (a tenant), computed by the server for both the writer and
	// the watcher: a channel is shared by every schema of the database, and
	// the payload's size is limited (8000 bytes) where a tenant's is not.
	watchKey = "md5(json_build_array(current_schema(), ?::text)::text)"
)

// feeder tells the watchers of one store about changes, by this process
// or another: the machinery of ConsentStore.Watch and RBACStore.Watch. On
// PostgreSQL it listens on a channel that writers notify, with the payload
// watchKey; on SQLite it polls PRAGMA data_version and reads the head of
// each watched key (a number that grows with every change).
type feeder struct {
	db        *DB
	channel   string // PostgreSQL: the channel writers notify
	qWatchKey string // PostgreSQL: the payload of a key's notifications
	// head reads a key's head through q.
	head func(ctx context.Context, q querier, key string) (int64, error)

	mu   sync.Mutex
	feed *feed // the running feed, or nil
}

func newFeeder(db *DB, channel string, head func(ctx context.Context, q querier, key string) (int64, error)) *feeder {
	return &feeder{db: db, channel: channel, qWatchKey: db.dialect.rebind("SELECT " + watchKey), head: head}
}

// watch runs one Watch of key (a tenant, or "" for a store without tenants)
// until ctx is done or the feed ends.
func (s *feeder) watch(ctx context.Context, key string, changed chan<- struct{}) error {
	w := &feedWatch{c: changed}
	var err error
	if s.listens() {
		// The payload of the tenant's notifications, as the server spells
		// it for this pool's schema.
		err = s.db.sql.QueryRowContext(ctx, s.qWatchKey, key).Scan(&w.key)
	} else {
		// Records up to the head now are the caller's to read once told
		// that the watch is ready; the feed signals those after it.
		w.key = key
		w.last, err = s.head(ctx, s.db.sql, key)
	}
	if err != nil {
		return err
	}
	f := s.subscribe(w)
	defer s.unsubscribe(f, w)
	select {
	case <-f.ready:
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
	signal(changed)
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// feed is the one source of changes that every Watch of a store shares
// while any runs.
type feed struct {
	ready  chan struct{} // closed once the feed sees every commit
	done   chan struct{} // closed when the feed ends
	err    error         // why it ended, set before done is closed
	cancel context.CancelFunc
	wake   chan struct{} // appends through this store: look now

	// Guarded by feeder.mu.
	refs    int
	watches map[string]map[*feedWatch]struct{} // by key
}

// feedWatch is one call of Watch.
type feedWatch struct {
	key  string // PostgreSQL: the payload of the tenant's notifications; SQLite: the tenant
	last int64  // SQLite: the tenant's head last signalled; guarded by feeder.mu
	c    chan<- struct{}
}

// listens reports whether the feed listens for notifications (PostgreSQL)
// rather than reading heads (SQLite, or a pool of one connection).
func (s *feeder) listens() bool {
	return s.db.dialect == Postgres && !s.onePool()
}

// onePool reports whether the pool allows a single connection, which the
// feed must not keep.
func (s *feeder) onePool() bool { return s.db.sql.Stats().MaxOpenConnections == 1 }

// subscribe adds w to the running feed, starting one if none runs.
func (s *feeder) subscribe(w *feedWatch) *feed {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.feed
	if f == nil || isClosed(f.done) {
		ctx, cancel := context.WithCancel(context.Background())
		f = &feed{
			ready:   make(chan struct{}),
			done:    make(chan struct{}),
			cancel:  cancel,
			wake:    make(chan struct{}, 1),
			watches: make(map[string]map[*feedWatch]struct{}),
		}
		s.feed = f
		go func() {
			defer close(f.done)
			f.err = s.runFeed(ctx, f)
		}()
	}
	f.refs++
	if f.watches[w.key] == nil {
		f.watches[w.key] = make(map[*feedWatch]struct{})
	}
	f.watches[w.key][w] = struct{}{}
	return f
}

// unsubscribe removes w from f, and stops f, waiting until it has
// released its connection, if w was its last watch.
func (s *feeder) unsubscribe(f *feed, w *feedWatch) {
	s.mu.Lock()
	delete(f.watches[w.key], w)
	if len(f.watches[w.key]) == 0 {
		delete(f.watches, w.key)
	}
	f.refs--
	last := f.refs == 0
	if last {
		if s.feed == f {
			s.feed = nil
		}
		f.cancel()
	}
	s.mu.Unlock()
	if last {
		<-f.done
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// signal sends on c without blocking.
func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// wake tells the running feed, if any, that this store appended a record.
func (s *feeder) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed != nil {
		signal(s.feed.wake)
	}
}

// runFeed feeds f until ctx is done or it fails.
func (s *feeder) runFeed(ctx context.Context, f *feed) error {
	if s.onePool() {
		close(f.ready)
		return s.pollHeads(ctx, f, s.db.sql, false)
	}
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.db.dialect == SQLite {
		return s.pollHeads(ctx, f, conn, true)
	}
	_ = conn.Raw(func(dc any) error {
		err = s.listen(ctx, f, dc)
		return driver.ErrBadConn // database/sql closes the connection rather than pool a listening session
	})
	return err
}

// pollHeads feeds f by reading the heads of the watched tenants through q:
// when an append through this store wakes it, and every
// feedPollInterval, either then or, with dataVersion (q must then be
// one connection, not a pool), only when SQLite's PRAGMA data_version says
// that another connection has committed.
func (s *feeder) pollHeads(ctx context.Context, f *feed, q querier, dataVersion bool) error {
	var version int64
	if dataVersion {
		if err := q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
			return err
		}
		// Every commit from now on changes data_version. Those before were
		// seen by the watches' reads of their heads, or are the callers'
		// to read once told that the watch is ready.
		close(f.ready)
	}
	tick := time.NewTicker(feedPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.wake:
		case <-tick.C:
			if dataVersion {
				var v int64
				if err := q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
					return err
				}
				if v == version {
					continue
				}
				version = v
			}
		}
		if err := s.checkHeads(ctx, f, q); err != nil {
			return err
		}
	}
}

// checkHeads reads the head of every watched tenant through q and signals
// the watches whose tenant has records they were not told of.
func (s *feeder) checkHeads(ctx context.Context, f *feed, q querier) error {
	s.mu.Lock()
	tenants := make([]string, 0, len(f.watches))
	for tenant := range f.watches {
		tenants = append(tenants, tenant)
	}
	s.mu.Unlock()
	for _, tenant := range tenants {
		seq, err := s.head(ctx, q, tenant)
		if err != nil {
			return err
		}
		s.mu.Lock()
		for w := range f.watches[tenant] {
			// A head read before the watch read its own may be older.
			if seq > w.last {
				w.last = seq
				signal(w.c)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// listen feeds f with the notifications that appends send, on the pool's
// connection dc.
func (s *feeder) listen(ctx context.Context, f *feed, dc any) error {
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("the pool's connections are %T, not pgx's (*stdlib.Conn)", dc)
	}
	pc := sc.Conn()
	if _, err := pc.Exec(ctx, "LISTEN "+s.channel); err != nil {
		return err
	}
	close(f.ready)
	for {
		wctx, cancel := context.WithTimeout(ctx, feedPingInterval)
		n, err := pc.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n != nil && n.Channel == s.channel {
				s.mu.Lock()
				for w := range f.watches[n.Payload] {
					signal(w.c)
				}
				s.mu.Unlock()
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() != nil:
			// No notification for a while: check the connection.
			if err := pc.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}
