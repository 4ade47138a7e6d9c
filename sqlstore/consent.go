package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// ConsentStore is the [consent.Store] and [consent.Watcher] kept in the
// tables dataward_consent_records (one row per record) and
// dataward_consent_heads (one row per tenant: the Seq of its last record).
// Get one from [DB.ConsentStore] and give it to [consent.New]. As the
// interface asks, it keeps what it is given and leaves validation,
// protection of evidence and derivation of states to the Ledger.
//
// Its guarantees hold across processes sharing the database. Each
// [ConsentStore.Append] is one transaction that first bumps the tenant's
// head row and then inserts the record, so appenders of a tenant queue on
// that row's lock (on SQLite, on the database's write lock) and commit in
// order of Seq: readers never see a gap, and a failed append, a duplicate
// ref included, consumes no Seq.
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; they never
// contain a subject, evidence or any other field of a record but the
// tenant. A duplicate ref matches [consent.ErrDuplicateRef], and a
// canceled or expired context is matched by errors.Is(err, ctx.Err()).
//
// On PostgreSQL the text fields of a record must be valid UTF-8 without
// NUL bytes, as TEXT requires; an Append that breaks this fails and stores
// nothing. SQLite keeps any string. Times are kept to the microsecond and
// read back in UTC.
type ConsentStore struct {
	db *DB

	qAppend          string // PostgreSQL: bump, insert and notify in one statement
	qBump, qInsert   string // SQLite: the two statements of an append's transaction
	qHistory, qSince string
	qHead            string
	qWatchKey        string // PostgreSQL: the payload of a tenant's notifications

	mu   sync.Mutex
	feed *consentFeed // the running feed of Watch, or nil
}

var (
	_ consent.Store   = (*ConsentStore)(nil)
	_ consent.Watcher = (*ConsentStore)(nil)
)

// ConsentStore returns the database's [consent.Store], which is also a
// [consent.Watcher]. Every call returns the same one.
func (db *DB) ConsentStore() *ConsentStore { return db.consent }

const (
	consentColumns = "tenant, seq, id, subject, purpose, kind, method," +
		" notice_id, notice_version, notice_language, notice_sha256, actor_id, actor_kind," +
		" evidence_ip, evidence_user_agent, jurisdiction, time, expires, ref, note"
	// The values of consentColumns after tenant and seq.
	consentValues = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

	// consentChannel is the PostgreSQL channel that appends notify, with a
	// payload naming the schema and the tenant (see ConsentStore.qWatchKey).
	consentChannel = "dataward_consent"

	// consentPollInterval is how often the feed of Watch on SQLite looks
	// for commits of other processes (and, with a pool of one connection,
	// of other pools).
	consentPollInterval = 100 * time.Millisecond
	// consentPingInterval is how long the feed of Watch on PostgreSQL
	// waits for a notification before it checks that its connection is
	// alive.
	consentPingInterval = 30 * time.Second
)

func newConsentStore(db *DB) *ConsentStore {
	d := db.dialect
	// The payload of a notification is the MD5 of the schema and the
	// tenant, computed by the server for both the appender and the
	// watcher: the channel is shared by every schema of the database, and
	// the payload's size is limited (8000 bytes) where a tenant's is not.
	const watchKey = "md5(json_build_array(current_schema(), ?::text)::text)"
	const bump = "INSERT INTO dataward_consent_heads (tenant, seq) VALUES (?, 1)" +
		" ON CONFLICT (tenant) DO UPDATE SET seq = dataward_consent_heads.seq + 1 RETURNING seq"
	s := &ConsentStore{
		db: db,
		// One statement, so one round trip and one transaction: the bump
		// takes the head row's lock, which the insert's commit releases;
		// the notification is sent when the statement commits.
		qAppend: d.rebind("WITH head AS (" + bump + ")," +
			" rec AS (INSERT INTO dataward_consent_records (" + consentColumns + ")" +
			" VALUES (?, (SELECT seq FROM head), " + consentValues + ") RETURNING seq)" +
			" SELECT seq, pg_notify('" + consentChannel + "', " + watchKey + ")::text FROM rec"),
		qBump: d.rebind(bump),
		qInsert: d.rebind("INSERT INTO dataward_consent_records (" + consentColumns + ")" +
			" VALUES (?, ?, " + consentValues + ")"),
		qHistory: d.rebind("SELECT " + consentColumns + " FROM dataward_consent_records" +
			" WHERE tenant = ? AND subject = ? ORDER BY seq"),
		qSince: d.rebind("SELECT " + consentColumns + " FROM dataward_consent_records" +
			" WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?"),
		qHead:     d.rebind("SELECT seq FROM dataward_consent_heads WHERE tenant = ?"),
		qWatchKey: d.rebind("SELECT " + watchKey),
	}
	return s
}

// consentTextFields names the text fields of a record, for errors.
var consentTextFields = [...]string{"Tenant", "ID", "Subject", "Purpose", "Kind", "Method",
	"Notice.ID", "Notice.Language", "Notice.SHA256", "ActorID", "ActorKind",
	"Evidence.IP", "Evidence.UserAgent", "Jurisdiction", "Ref", "Note"}

// Append adds rec to the ledger of rec.Tenant, as [consent.Store]
// specifies, and returns its Seq. rec.Seq is ignored. Time and Expires are
// stored to the microsecond; a zero Expires, and an empty Ref, as NULL.
//
// On PostgreSQL the append is a single statement that bumps the head row,
// inserts the record and notifies watchers (pg_notify, delivered at
// commit); on SQLite, a BEGIN IMMEDIATE transaction of the bump and the
// insert. If rec.Ref is not empty and the tenant has a record with that
// Ref, the unique index on (tenant, ref) refuses the insert, the
// transaction rolls back, and the error matches [consent.ErrDuplicateRef].
// On any error nothing is stored and no Seq is consumed.
func (s *ConsentStore) Append(ctx context.Context, rec consent.Record) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "append consent record", err)
	}
	d := s.db.dialect
	texts := [len(consentTextFields)]string{rec.Tenant, rec.ID, string(rec.Subject), rec.Purpose,
		string(rec.Kind), string(rec.Method), rec.Notice.ID, rec.Notice.Language, rec.Notice.SHA256,
		rec.ActorID, string(rec.ActorKind), rec.Evidence.IP, rec.Evidence.UserAgent, rec.Jurisdiction,
		rec.Ref, rec.Note}
	for i, text := range texts {
		if !d.textOK(text) {
			return 0, fmt.Errorf("sqlstore: append consent record: %s is not valid UTF-8 or holds a NUL byte, which %s cannot store as text",
				consentTextFields[i], d)
		}
	}
	// The values after tenant and seq, in the order of consentColumns.
	args := []any{rec.ID, string(rec.Subject), rec.Purpose, string(rec.Kind), string(rec.Method),
		rec.Notice.ID, int64(rec.Notice.Version), rec.Notice.Language, rec.Notice.SHA256,
		rec.ActorID, string(rec.ActorKind), rec.Evidence.IP, rec.Evidence.UserAgent, rec.Jurisdiction,
		d.instantArg(rec.Time), d.timeArg(rec.Expires), nonEmpty(rec.Ref), rec.Note}

	var seq int64
	var err error
	if d == Postgres {
		var notified sql.NullString
		all := append(append([]any{rec.Tenant, rec.Tenant}, args...), rec.Tenant)
		err = s.db.sql.QueryRowContext(ctx, s.qAppend, all...).Scan(&seq, &notified)
	} else {
		err = s.db.withTx(ctx, func(q querier) error {
			if err := q.QueryRowContext(ctx, s.qBump, rec.Tenant).Scan(&seq); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, s.qInsert, append([]any{rec.Tenant, seq}, args...)...)
			return err
		})
	}
	if err != nil {
		if duplicateRef(err) {
			return 0, fmt.Errorf("sqlstore: append consent record: %w (tenant %q)", consent.ErrDuplicateRef, rec.Tenant)
		}
		return 0, storeErr(ctx, "append consent record", err)
	}
	s.wake()
	return seq, nil
}

// duplicateRef reports whether err is the violation of the unique index on
// (tenant, ref): SQLITE_CONSTRAINT_UNIQUE (2067) on SQLite, where it is the
// records table's only unique index (its primary key would be
// SQLITE_CONSTRAINT_PRIMARYKEY), or unique_violation (23505) of
// dataward_consent_records_ref on PostgreSQL.
func duplicateRef(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == "dataward_consent_records_ref"
	}
	var sqliteErr interface{ Code() int }
	return errors.As(err, &sqliteErr) && sqliteErr.Code() == 2067 &&
		strings.Contains(err.Error(), "dataward_consent_records.ref")
}

// History returns every record of subject in tenant, in Seq order, or
// none (a nil slice).
func (s *ConsentStore) History(ctx context.Context, tenant string, subject dataward.SubjectID) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read consent history", err)
	}
	out, err := s.query(ctx, s.qHistory, tenant, string(subject))
	if err != nil {
		return nil, storeErr(ctx, "read consent history", err)
	}
	return out, nil
}

// Since returns the tenant's records with Seq > after, in Seq order, at
// most limit of them, or none (a nil slice). A limit outside 1 to
// [consent.MaxPage] is an error.
func (s *ConsentStore) Since(ctx context.Context, tenant string, after int64, limit int) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read consent records", err)
	}
	if limit < 1 || limit > consent.MaxPage {
		return nil, fmt.Errorf("sqlstore: read consent records: limit %d is out of range 1 to %d", limit, consent.MaxPage)
	}
	out, err := s.query(ctx, s.qSince, tenant, after, int64(limit))
	if err != nil {
		return nil, storeErr(ctx, "read consent records", err)
	}
	return out, nil
}

func (s *ConsentStore) query(ctx context.Context, query string, args ...any) ([]consent.Record, error) {
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var (
			r                     consent.Record
			subject, kind, method string
			actorKind             string
			noticeVersion         int64
			ref                   sql.NullString
		)
		err := rows.Scan(&r.Tenant, &r.Seq, &r.ID, &subject, &r.Purpose, &kind, &method,
			&r.Notice.ID, &noticeVersion, &r.Notice.Language, &r.Notice.SHA256, &r.ActorID, &actorKind,
			&r.Evidence.IP, &r.Evidence.UserAgent, &r.Jurisdiction, timeCol{&r.Time}, timeCol{&r.Expires},
			&ref, &r.Note)
		if err != nil {
			return nil, err
		}
		r.Subject = dataward.SubjectID(subject)
		r.Kind = consent.Kind(kind)
		r.Method = consent.Method(method)
		r.ActorKind = dataward.ActorKind(actorKind)
		r.Notice.Version = int(noticeVersion)
		r.Ref = ref.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Head returns the Seq of the tenant's last record, or 0 if it has none,
// as its head row records it.
func (s *ConsentStore) Head(ctx context.Context, tenant string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "read consent head", err)
	}
	seq, err := s.headSeq(ctx, s.db.sql, tenant)
	if err != nil {
		return 0, storeErr(ctx, "read consent head", err)
	}
	return seq, nil
}

// headSeq is Head through q.
func (s *ConsentStore) headSeq(ctx context.Context, q querier, tenant string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, s.qHead, tenant).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Watch sends on changed, without blocking, once it is ready and then
// after records are added to tenant, by this process or another, until ctx
// is done, as [consent.Watcher] specifies. It returns ctx.Err() when ctx is
// done, or another error if it could not watch (a lost connection among
// them: call it again to resume).
//
// The watchers of a ConsentStore share one feed of changes, whatever
// their number and tenants: one connection of the pool, held while any
// Watch runs and released when the last one returns.
//
// On PostgreSQL the feed's connection listens on the channel
// dataward_consent: appends notify at commit, with a payload naming the
// schema and the tenant, and each watcher is signalled for its own. Every
// 30 s without a notification the feed pings the server, so that a lost
// connection ends Watch with an error rather than silence.
//
// On SQLite the feed reads PRAGMA data_version on its connection every
// 100 ms: the number changes when another connection or process commits,
// and the feed then reads the head of each watched tenant to see whether
// the commit added records. Appends through this store wake the feed at
// once, without waiting for the poll.
//
// With a pool limited to a single connection (SQLite's :memory:, say), the
// feed holds none and reads the heads through the pool every 100 ms, and
// when appends through this store wake it.
func (s *ConsentStore) Watch(ctx context.Context, tenant string, changed chan<- struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.watch(ctx, tenant, changed)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil {
		err = errors.New("the feed of changes stopped")
	}
	return storeErr(ctx, "watch consent records", err)
}

func (s *ConsentStore) watch(ctx context.Context, tenant string, changed chan<- struct{}) error {
	w := &consentWatch{c: changed}
	var err error
	if s.listens() {
		// The payload of the tenant's notifications, as the server spells
		// it for this pool's schema.
		err = s.db.sql.QueryRowContext(ctx, s.qWatchKey, tenant).Scan(&w.key)
	} else {
		// Records up to the head now are the caller's to read once told
		// that the watch is ready; the feed signals those after it.
		w.key = tenant
		w.last, err = s.headSeq(ctx, s.db.sql, tenant)
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

// consentFeed is the one source of changes that every Watch of a
// ConsentStore shares while any runs.
type consentFeed struct {
	ready  chan struct{} // closed once the feed sees every commit
	done   chan struct{} // closed when the feed ends
	err    error         // why it ended, set before done is closed
	cancel context.CancelFunc
	wake   chan struct{} // appends through this store: look now

	// Guarded by ConsentStore.mu.
	refs    int
	watches map[string]map[*consentWatch]struct{} // by key
}

// consentWatch is one call of Watch.
type consentWatch struct {
	key  string // PostgreSQL: the payload of the tenant's notifications; SQLite: the tenant
	last int64  // SQLite: the tenant's head last signalled; guarded by ConsentStore.mu
	c    chan<- struct{}
}

// listens reports whether the feed listens for notifications (PostgreSQL)
// rather than reading heads (SQLite, or a pool of one connection).
func (s *ConsentStore) listens() bool {
	return s.db.dialect == Postgres && !s.onePool()
}

// onePool reports whether the pool allows a single connection, which the
// feed must not keep.
func (s *ConsentStore) onePool() bool { return s.db.sql.Stats().MaxOpenConnections == 1 }

// subscribe adds w to the running feed, starting one if none runs.
func (s *ConsentStore) subscribe(w *consentWatch) *consentFeed {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.feed
	if f == nil || isClosed(f.done) {
		ctx, cancel := context.WithCancel(context.Background())
		f = &consentFeed{
			ready:   make(chan struct{}),
			done:    make(chan struct{}),
			cancel:  cancel,
			wake:    make(chan struct{}, 1),
			watches: make(map[string]map[*consentWatch]struct{}),
		}
		s.feed = f
		go func() {
			defer close(f.done)
			f.err = s.runFeed(ctx, f)
		}()
	}
	f.refs++
	if f.watches[w.key] == nil {
		f.watches[w.key] = make(map[*consentWatch]struct{})
	}
	f.watches[w.key][w] = struct{}{}
	return f
}

// unsubscribe removes w from f, and stops f, waiting until it has
// released its connection, if w was its last watch.
func (s *ConsentStore) unsubscribe(f *consentFeed, w *consentWatch) {
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
func (s *ConsentStore) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed != nil {
		signal(s.feed.wake)
	}
}

// runFeed feeds f until ctx is done or it fails.
func (s *ConsentStore) runFeed(ctx context.Context, f *consentFeed) error {
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
// consentPollInterval, either then or, with dataVersion (q must then be
// one connection, not a pool), only when SQLite's PRAGMA data_version says
// that another connection has committed.
func (s *ConsentStore) pollHeads(ctx context.Context, f *consentFeed, q querier, dataVersion bool) error {
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
	tick := time.NewTicker(consentPollInterval)
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
func (s *ConsentStore) checkHeads(ctx context.Context, f *consentFeed, q querier) error {
	s.mu.Lock()
	tenants := make([]string, 0, len(f.watches))
	for tenant := range f.watches {
		tenants = append(tenants, tenant)
	}
	s.mu.Unlock()
	for _, tenant := range tenants {
		seq, err := s.headSeq(ctx, q, tenant)
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
func (s *ConsentStore) listen(ctx context.Context, f *consentFeed, dc any) error {
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("the pool's connections are %T, not pgx's (*stdlib.Conn)", dc)
	}
	pc := sc.Conn()
	if _, err := pc.Exec(ctx, "LISTEN "+consentChannel); err != nil {
		return err
	}
	close(f.ready)
	for {
		wctx, cancel := context.WithTimeout(ctx, consentPingInterval)
		n, err := pc.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n != nil && n.Channel == consentChannel {
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
