package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward/audit"
)

// AuditStore is the [audit.Store] kept in the tables dataward_audit_*: the
// entries of the log, the hashes of its Merkle tree, its signed
// checkpoints, and a one-row head holding its size. Get one from
// [DB.AuditStore] and give it to [audit.New]. As the interface asks,
// it keeps what it is given, in order, and leaves encoding, hashing and
// verifying to the Logger.
//
// Its guarantees hold across processes sharing the database. Each
// [AuditStore.Append] is one transaction that first updates the head row,
// so appenders queue on that row's lock (on SQLite, on the database's write
// lock) and each sees the size its predecessor committed: the log has one
// order, without gaps or forks, and an appender that lost the race stores
// nothing and gets an error matching [audit.ErrConflict].
//
// Errors are prefixed "sqlstore:" and wrap the driver's error; they never
// contain entry data. A missing hash or checkpoint matches
// [audit.ErrNotFound], and a canceled or expired context is matched by
// errors.Is(err, ctx.Err()).
//
// A row holds an entry's Data, its Time, ActorID and Subject (the fields
// that queries find through an index) and its tree hashes; the other
// fields (Action, Class, ResourceType, ResourceID, Outcome) are read from
// Data, which holds them in every entry a Logger appends
// ([audit.Entry.FromData]): narrower rows make durable appends cheaper.
// Entries given by other means keep those fields in a column of their
// own. Query tests the conditions on indexed fields in SQL and the others
// on the rows it reads (see [AuditStore.Query]). A row whose data was
// altered so that it no longer decodes reads back with those fields empty;
// [audit.Verify] reports it.
//
// On PostgreSQL ActorID and Subject must be valid UTF-8 without NUL bytes,
// as TEXT requires; an Append that breaks this fails and stores nothing.
// SQLite keeps any string.
//
// On SQLite, appends keep one connection of the pool for themselves, with
// their statements prepared, until [DB.Close] (a pool limited to a single
// connection is left alone), and a goroutine checkpoints the write-ahead
// log off their path (see writerAutocheckpoint).
//
// It is an [audit.SyncStore]. If the SQLite database is a file in WAL mode
// with synchronous=FULL, as [Open] sets it, the writer connection commits
// without waiting for the disk (synchronous=NORMAL), and
// [AuditStore.Sync] syncs the write-ahead log itself: the sync that FULL
// would have made at the commit, which an audit.Logger overlaps with its
// next append. [AuditStore.Append] does both before it returns. Anywhere
// else (PostgreSQL, another journal mode or synchronous setting, a pool of
// one connection) each commit is as durable as the database makes it, and
// Sync does nothing.
type AuditStore struct {
	db *DB

	qAdvance, qSize, qRead, qHashes string
	qAddCheckpoint, qCheckpoints    string
	qLatestCheckpoint               string
	insertEntries                   *multiInsert

	// runs is set where the actor, subject and time indexes hold runs of
	// entries (SQLite; see auditRunReach), not entries (PostgreSQL).
	runs bool
	// earlierChecked is when Query last looked for entries of an earlier
	// build (see indexEarlierEntries), in Unix nanoseconds.
	earlierChecked atomic.Int64

	queries sync.Map // Query's statements, by fields and kind (see text)

	writer sqliteWriter // SQLite appends, when the pool allows one more connection
}

// sqliteWriter is the connection that SQLite appends go through, kept from
// one append to the next with its statements prepared: parsing a
// multi-row INSERT again for every batch cost a tenth of an append. SQLite
// has a single writer anyway; appends from this process queue on mu, and
// other processes on the database's write lock.
type sqliteWriter struct {
	mu     sync.Mutex
	conn   *sql.Conn
	stmts  map[string]*sql.Stmt // by query text
	bufs   appendBuffers
	ckpt   *walCheckpointer // started with the first connection
	closed bool             // by DB.Close: appends take the common path

	autocheckpoint int64 // conn's wal_autocheckpoint before the writer's
	unsynced       bool  // conn commits with synchronous=NORMAL (see deferSyncs)

	wal walSyncer // what Sync syncs; not under mu
}

// walSyncer syncs the write-ahead log that the writer's commits leave
// unsynced (see AuditStore.Sync).
type walSyncer struct {
	mu sync.Mutex // taken after sqliteWriter.mu when both are
	// path is set once a writer connection commits without syncing. It
	// stays set when the connection is replaced: what the old one
	// committed may still need a sync.
	path string
	f    *os.File    // path, as opened by the last sync that found it
	fi   os.FileInfo // f's, to notice path naming another file
	// err is the first failed sync's. The kernel may have dropped the
	// pages that it failed to write, and a later sync would then succeed
	// without them: from then on, every Sync fails (as PostgreSQL panics
	// on a failed fsync), and no event committed unsynced is reported
	// durable by this AuditStore again.
	err error
}

// The writer's share of checkpointing the write-ahead log. SQLite's
// automatic checkpoint, run by the connection that commits when the log
// passes wal_autocheckpoint pages (1000 by default), copied the log into
// the database file and synced both while every durable Record waited: a
// tenth to a sixth of the writer's time. The writer connection instead
// sets wal_autocheckpoint to writerAutocheckpoint pages, and a goroutine
// runs a PASSIVE checkpoint on another connection every
// checkpointEntries appended entries (~1 MiB of log), concurrently with
// the appends that follow. When the log reaches writerAutocheckpoint
// pages, the writer's own checkpoint finds most of it copied already and
// completes, so that the next commit starts the log over: the log stays
// within about writerAutocheckpoint pages (16 MiB) even if the goroutine
// falls behind. A passive checkpoint never waits for a lock; one that
// finds the log busy leaves the work to the next. Checkpoints do not
// weaken durability, though the writer's commits leave the log unsynced
// until AuditStore.Sync: a checkpoint copies only committed frames, syncs
// the log before it copies them (with the pool's synchronous=FULL as with
// the writer's NORMAL), and syncs the database after; SQLite writes the
// log again from its start only once a checkpoint has copied all of it.
// See AuditStore.Sync.
const (
	writerAutocheckpoint = 4000
	checkpointEntries    = 1024
)

// walCheckpointer is the goroutine that checkpoints the write-ahead log
// for the writer.
type walCheckpointer struct {
	pending atomic.Int64  // entries appended since the last checkpoint began
	wake    chan struct{} // capacity 1: a checkpoint is due
	cancel  context.CancelFunc
	done    chan struct{}
}

func startCheckpointer(pool *sql.DB) *walCheckpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &walCheckpointer{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			}
			c.pending.Store(0)
			conn, err := pool.Conn(ctx)
			if err != nil {
				continue // the pool is closing, or ctx is done
			}
			var busy, logFrames, checkpointed int64
			_ = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &checkpointed)
			conn.Close()
		}
	}()
	return c
}

// appended counts n entries committed, and wakes the goroutine when a
// checkpoint is due.
func (c *walCheckpointer) appended(n int) {
	if c.pending.Add(int64(n)) >= checkpointEntries {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// stop ends the goroutine and waits for it.
func (c *walCheckpointer) stop() {
	c.cancel()
	<-c.done
}

// appendBuffers hold an append's statement arguments. The SQLite writer
// reuses them from one append to the next (under its mu), the driver
// having copied the values when it bound them: a batch of 64 entries has
// 640 arguments (448 on PostgreSQL) and about 4 KiB of tree hashes.
type appendBuffers struct {
	args    []any
	blob    []byte
	derived []bool
	runs    runFinder
}

// prepared returns the statement of query on w.conn, preparing it once.
func (w *sqliteWriter) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = make(map[string]*sql.Stmt)
	}
	w.stmts[query] = st
	return st, nil
}

// close releases the connection and its statements. w.mu is held.
func (w *sqliteWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
	if w.conn != nil {
		// Back to the pool with the automatic checkpoints, and the syncs
		// of commits, it came with; or not at all.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := w.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", w.autocheckpoint))
		if err == nil && w.unsynced {
			_, err = w.conn.ExecContext(ctx, "PRAGMA synchronous = FULL")
		}
		cancel()
		if err != nil {
			discardConn(w.conn)
		}
		w.unsynced = false
		w.conn.Close()
		w.conn = nil
	}
}

// preparedQuerier runs the statements of an append on the writer's
// connection, through statements prepared once.
type preparedQuerier struct {
	w *sqliteWriter
}

func (q preparedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.w.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (q preparedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.w.prepared(ctx, query)
	if err != nil {
		// sql.Row has no constructor for an error: let the connection
		// report it.
		return q.w.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

var _ audit.SyncStore = (*AuditStore)(nil)

// AuditStore returns the database's [audit.Store]. Every call returns the
// same one.
func (db *DB) AuditStore() *AuditStore { return db.audit }

const (
	auditEntryColumns      = "idx, data, time, actor_id, subject, fields"
	auditInsertColumns     = auditEntryColumns + ", hashes"
	auditInsertColumnCount = 7
	auditRunColumns        = ", actor_end, subject_end, time_end" // with runs
	auditRunColumnCount    = 3
	auditCheckpointColumns = "size, root, time, note"

	// The most rows per INSERT statement (see multiInsert): enough for a
	// batch of the usual size (64 to 256 entries), and far below the limits
	// on ? per statement (32766 on SQLite, 65535 on PostgreSQL).
	auditEntriesPerInsert = 256
)

// The fields of audit.Entry kept in text columns, in the order of the
// columns (after idx, data and time).
var auditTextFields = [...]string{"ActorID", "Subject"}

func newAuditStore(db *DB) *AuditStore {
	d := db.dialect
	s := &AuditStore{
		db: db,
		// The first statement of every append: it takes the head row's lock
		// (on SQLite the transaction already holds the write lock) and
		// reserves room for the batch, saving the round trip of a SELECT
		// ... FOR UPDATE. The transaction rolls it back if the batch does
		// not fit where the log ends.
		qAdvance: d.rebind("UPDATE dataward_audit_head SET size = size + ?, hashes = hashes + ?" +
			" WHERE id = 1 RETURNING size, hashes"),
		qSize: "SELECT size FROM dataward_audit_head WHERE id = 1",
		qRead: d.rebind("SELECT " + auditEntryColumns + " FROM dataward_audit_entries" +
			" WHERE idx >= ? ORDER BY idx LIMIT ?"),
		qHashes: d.rebind("SELECT idx, hashes FROM dataward_audit_entries WHERE " +
			d.anyInt64("idx")),
		qAddCheckpoint: d.rebind("INSERT INTO dataward_audit_checkpoints (" + auditCheckpointColumns + ")" +
			" VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING"),
		qCheckpoints: d.rebind("SELECT " + auditCheckpointColumns + " FROM dataward_audit_checkpoints" +
			" WHERE size >= ? ORDER BY size LIMIT ?"),
		qLatestCheckpoint: "SELECT " + auditCheckpointColumns + " FROM dataward_audit_checkpoints" +
			" ORDER BY size DESC LIMIT 1",
	}
	s.runs = d == SQLite
	if s.runs {
		s.insertEntries = newMultiInsert(d, "dataward_audit_entries", auditInsertColumns+auditRunColumns,
			auditInsertColumnCount+auditRunColumnCount, auditEntriesPerInsert)
	} else {
		s.insertEntries = newMultiInsert(d, "dataward_audit_entries", auditInsertColumns, auditInsertColumnCount, auditEntriesPerInsert)
	}
	return s
}

// Append stores b in one transaction, durably, as [audit.Store] specifies. The
// transaction first advances the head row by the batch's size, which
// serialises appenders, then checks that b.Entries starts at the size the
// head held and is consecutive, and that b.Hashes starts at the number of
// stored hashes and is consecutive; it then inserts the entries and hashes,
// many rows per statement, and commits. If b starts anywhere but at the end
// of the log, the error matches [audit.ErrConflict]; on any error nothing
// is stored, but for one: once the commit is made, a failed sync of the
// SQLite write-ahead log (see [AuditStore.Sync]) leaves b stored, and
// visible, but perhaps not durable. A context that ends after the commit
// no longer matters.
func (s *AuditStore) Append(ctx context.Context, b audit.Batch) error {
	deferred, err := s.appendUnsynced(ctx, b)
	if err != nil || !deferred {
		return err
	}
	// b is committed: an error now would tell the caller it was not
	// stored. A sync cannot be interrupted anyway.
	return s.Sync(context.WithoutCancel(ctx))
}

// AppendUnsynced stores b as [AuditStore.Append] does, but may return
// before b is durable; [AuditStore.Sync] makes it so. It implements
// [audit.SyncStore].
func (s *AuditStore) AppendUnsynced(ctx context.Context, b audit.Batch) error {
	_, err := s.appendUnsynced(ctx, b)
	return err
}

// appendUnsynced stores b, and reports whether its commit was left
// unsynced.
func (s *AuditStore) appendUnsynced(ctx context.Context, b audit.Batch) (deferred bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, storeErr(ctx, "append to audit log", err)
	}
	if len(b.Entries) == 0 {
		return false, nil
	}
	if s.db.dialect == SQLite && s.db.sql.Stats().MaxOpenConnections != 1 {
		deferred, err = s.appendSQLite(ctx, b)
	} else {
		err = s.db.withTx(ctx, func(q querier) error { return s.append(ctx, q, b, new(appendBuffers)) })
	}
	if err != nil {
		return false, storeErr(ctx, "append to audit log", err)
	}
	return deferred, nil
}

// Sync makes durable every batch that [AuditStore.AppendUnsynced] stored
// before the call: on SQLite, where the writer connection commits without
// syncing, it fdatasyncs the write-ahead log. It implements
// [audit.SyncStore]. Once a sync of the log has failed, every later Sync
// fails too (see walSyncer).
//
// Why a batch is then durable, with SQLite's write-ahead log
// (https://sqlite.org/wal.html): its commit wrote its frames, and the
// commit frame, into the -wal file before AppendUnsynced returned, and
// recovery after a crash keeps every transaction whose frames, and those
// before them, are on disk with valid checksums. Syncing the -wal file
// puts them there, whichever descriptor syncs it: the kernel syncs the
// file, not what one descriptor wrote. The file is the same from one
// commit to the next: SQLite writes the log again from its start once a
// checkpoint has copied all of it into the database, and truncates it
// (journal_size_limit, wal_checkpoint(TRUNCATE)) without replacing it;
// it deletes it only when the last connection to the database closes,
// after a checkpoint that copied it into the database and synced that.
// Sync still checks that the path names the file it holds open, and
// opens the new one if not (frames of the old file were then
// checkpointed and synced by SQLite). Checkpoints themselves never copy
// unsynced frames into the database unsynced: a checkpoint syncs the log
// before it copies from it, and the database after, with
// synchronous=NORMAL (the writer's) as with FULL (the pool's, which runs
// the background checkpoints; https://sqlite.org/pragma.html#pragma_synchronous);
// and SQLite writes the log again from its start only after a checkpoint
// that completed, so no frame is overwritten before it is in the synced
// database.
func (s *AuditStore) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "sync audit log", err)
	}
	if err := s.writer.wal.sync(); err != nil {
		return storeErr(ctx, "sync audit log", err)
	}
	return nil
}

// sync syncs the write-ahead log, if a writer connection ever committed
// without syncing.
func (w *walSyncer) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.path == "" {
		return nil // every commit synced itself
	}
	if w.err != nil {
		return w.err
	}
	if w.f != nil {
		// First the file held open: it has every frame committed while
		// path named it.
		if err := fdatasync(w.f); err != nil {
			w.err = fmt.Errorf("fdatasync %s: %w", w.path, err)
			return w.err
		}
	}
	fi, err := os.Stat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		// The last connection closed, and SQLite deleted the log after
		// copying it into the database and syncing that.
		w.closeFile()
		return nil
	}
	if err != nil {
		return err
	}
	if w.f != nil && os.SameFile(fi, w.fi) {
		return nil
	}
	// The first sync, or the log was deleted and made anew: open the
	// file that path names now, and sync it.
	w.closeFile()
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted meanwhile, as above
	}
	if err != nil {
		return err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return err
	}
	if err := fdatasync(f); err != nil {
		f.Close()
		w.err = fmt.Errorf("fdatasync %s: %w", w.path, err)
		return w.err
	}
	w.f, w.fi = f, fi
	return nil
}

// closeFile closes the file held open, if any. w.mu is held.
func (w *walSyncer) closeFile() {
	if w.f != nil {
		w.f.Close()
		w.f, w.fi = nil, nil
	}
}

// appendSQLite appends through the writer connection, and reports whether
// the commit was left unsynced. (A pool of one connection, such as
// :memory:'s, cannot spare one, and takes the common path.)
func (s *AuditStore) appendSQLite(ctx context.Context, b audit.Batch) (deferred bool, err error) {
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, s.db.withTx(ctx, func(q querier) error { return s.append(ctx, q, b, new(appendBuffers)) })
	}
	if w.conn == nil {
		conn, err := s.db.sql.Conn(ctx)
		if err != nil {
			return false, err
		}
		err = conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&w.autocheckpoint)
		if err == nil {
			_, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutocheckpoint))
		}
		if err == nil {
			w.conn = conn
			err = w.deferSyncs(ctx)
		}
		if err != nil {
			discardConn(conn)
			conn.Close()
			w.conn, w.unsynced = nil, false
			return false, err
		}
		if w.ckpt == nil {
			w.ckpt = startCheckpointer(s.db.sql)
		}
	}
	err = s.db.inTx(ctx, w.conn, func(q querier) error { return s.append(ctx, preparedQuerier{w}, b, &w.bufs) })
	if err == nil {
		w.ckpt.appended(len(b.Entries))
		return w.unsynced, nil
	}
	if w.conn.PingContext(context.WithoutCancel(ctx)) != nil {
		w.close() // a broken connection: the next append takes a new one
	}
	return false, err
}

// deferSyncs makes the new connection w.conn commit without syncing, and
// sets the log for Sync to sync, if the database is a file in WAL mode with
// synchronous=FULL. In WAL mode, FULL differs from NORMAL only by a sync
// of the write-ahead log at every commit
// (https://sqlite.org/pragma.html#pragma_synchronous), which Sync then
// makes. Any other setting is the DSN's choice, and is left alone.
func (w *sqliteWriter) deferSyncs(ctx context.Context) error {
	var mode string
	var level int
	if err := w.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if err := w.conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil {
		return err
	}
	var file string
	err := w.conn.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file)
	if err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") || level != 2 || file == "" {
		return nil
	}
	// The path first: from the first commit on, Sync must find it.
	w.wal.mu.Lock()
	w.wal.path = file + "-wal"
	w.wal.mu.Unlock()
	if _, err := w.conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return err
	}
	w.unsynced = true
	return nil
}

// close releases the writer connection and stops its checkpoints; DB.Close
// calls it. Appends that come later take the common path.
func (s *AuditStore) close() {
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.close()
	if w.ckpt != nil {
		w.ckpt.stop()
		w.ckpt = nil
	}
	w.wal.mu.Lock()
	w.wal.closeFile() // a later Sync opens the log again, if it is still there
	w.wal.mu.Unlock()
}

func (s *AuditStore) append(ctx context.Context, q querier, b audit.Batch, bufs *appendBuffers) error {
	n, m := int64(len(b.Entries)), int64(len(b.Hashes))
	var size, hashes int64
	err := q.QueryRowContext(ctx, s.qAdvance, n, m).Scan(&size, &hashes)
	if errors.Is(err, sql.ErrNoRows) {
		return errors.New("the row of dataward_audit_head is missing")
	}
	if err != nil {
		return err
	}
	size, hashes = size-n, hashes-m // as the previous append left them

	// The checks come in the order of audit.MemStore's, so that a batch
	// wrong in several ways fails in the same way on both.
	for i, e := range b.Entries {
		if e.Index != size+int64(i) {
			if i == 0 {
				return fmt.Errorf("%w: entry %d appended at size %d", audit.ErrConflict, e.Index, size)
			}
			return fmt.Errorf("batch entries are not consecutive: %d after %d", e.Index, b.Entries[i-1].Index)
		}
	}
	for i, h := range b.Hashes {
		if h.Index != hashes+int64(i) {
			return fmt.Errorf("stored hash %d appended where %d is next", h.Index, hashes+int64(i))
		}
	}

	// Each entry's row also holds the tree hashes stored with it (those at
	// storage indexes tlog.StoredHashIndex(0, n) up to that of n+1): one
	// row per entry rather than three, which nearly halves the cost of an
	// append.
	// An entry whose columns are those its Data encodes (every entry of
	// a Logger: see audit.Entry.FromData) stores NULL as its fields; any
	// other stores them in the blob, before the tree hashes. The blob's
	// capacity is fixed before the first slice of it is taken.
	d := s.db.dialect
	derived := slices.Grow(bufs.derived[:0], len(b.Entries))
	fieldsLen := 0
	for i := range b.Entries {
		ok := b.FromData || b.Entries[i].FromData()
		derived = append(derived, ok)
		if !ok {
			fieldsLen += entryFieldsLen(&b.Entries[i])
		}
	}
	args := slices.Grow(bufs.args[:0], (auditInsertColumnCount+auditRunColumnCount)*len(b.Entries))
	blob := slices.Grow(bufs.blob[:0], fieldsLen+tlog.HashSize*len(b.Hashes))
	defer func() {
		clear(args) // nothing of b is kept past the append
		bufs.args, bufs.blob, bufs.derived = args[:0], blob[:0], derived[:0]
	}()
	// The runs of each actor and subject, and of times (see
	// auditRunReach, auditTimeRunSpan): ends[k][i] is where the run that
	// entry i starts ends, or -1.
	var ends [runKinds][]int
	if s.runs {
		ends = bufs.runs.find(b.Entries)
		defer bufs.runs.reset()
	}
	h := 0 // next in b.Hashes
	for i := range b.Entries {
		e := &b.Entries[i]
		texts := [len(auditTextFields)]string{e.ActorID, e.Subject}
		args = append(args, e.Index, bytesArg(e.Data), d.instantArg(e.Time))
		for i, text := range texts {
			if !d.textOK(text) {
				return fmt.Errorf("entry %d: %s is not valid UTF-8 or holds a NUL byte, which %s cannot store as text",
					e.Index, auditTextFields[i], d)
			}
			args = append(args, text)
		}
		if derived[i] {
			args = append(args, nil)
		} else {
			start := len(blob)
			blob = appendEntryFields(blob, e)
			args = append(args, blob[start:len(blob):len(blob)])
		}
		start := len(blob)
		for end := tlog.StoredHashIndex(0, e.Index+1); h < len(b.Hashes) && b.Hashes[h].Index < end; h++ {
			blob = append(blob, b.Hashes[h].Hash[:]...)
		}
		if len(blob) == start {
			return fmt.Errorf("entry %d comes without its tree hashes", e.Index)
		}
		args = append(args, blob[start:len(blob):len(blob)])
		for k, ends := range ends {
			switch {
			case ends == nil:
				// no runs
			case ends[i] >= 0:
				args = append(args, e.Index+int64(ends[i]-i))
			case k == timeRuns:
				args = append(args, timeRunContinues)
			default:
				args = append(args, nil)
			}
		}
	}
	if h != len(b.Hashes) {
		return fmt.Errorf("the batch holds %d tree hashes beyond those of its entries", len(b.Hashes)-h)
	}
	if err := s.insertEntries.exec(ctx, q, args); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	return nil
}

// On SQLite, the subject, actor and time indexes hold runs of entries
// rather than entries (see migrations/0007_audit_runs.sqlite.sql): the
// first entry of a run records where the run ends, and a query reads the
// whole run. Runs lie within one batch.
//
// On PostgreSQL they hold entries. Its appends pay little for them (its
// write-ahead log records index tuples, not pages: BenchmarkAppendPostgres
// was as fast without them), and it reads a join of runs more slowly than
// an index of entries: 1.4 to 2.1 times in BenchmarkAuditStoreQuery, where
// nearly every entry is a run of its own, and far more slowly in a table
// without statistics, which it plans as if it were small.
//
// auditRunReach is how close two entries of one batch with the same
// actor (or subject) must be to belong to one run. Up to auditRunReach-1
// entries of others lie between two of a run's, so a query reads fewer
// than auditRunReach rows for each row it returns; a batch in which an
// actor comes back that close makes one index entry for many.
//
// A run of times is a stretch of a batch in which time does not go back,
// nor move more than auditTimeRunSpan from the run's first entry, so a
// query for times from t reads the runs that start from t minus
// auditTimeRunSpan: at most that much of the log more than it returns.
const (
	auditRunReach    = 16
	auditTimeRunSpan = 10 * time.Millisecond
)

// timeRunContinues is the time_end of an entry in a run of times, but not
// its first. (-2, the column's default, marks one that an earlier build
// appended after migration 7: see indexEarlierEntries.)
const timeRunContinues int64 = -1

// The kinds of runs, in the order of their columns.
const (
	actorRuns = iota
	subjectRuns
	timeRuns
	runKinds
)

// runFinder finds the runs of a batch, with memory kept from one append
// to the next.
type runFinder struct {
	ends [runKinds][]int
	open map[string]openRun // by actor or subject: its run so far
}

type openRun struct{ start, last int }

// find returns, for each kind of run, where in es the run that each entry
// starts ends: at ends[kind][i] for entry i, or -1 if entry i continues a
// run.
func (f *runFinder) find(es []audit.Entry) [runKinds][]int {
	if f.open == nil {
		f.open = make(map[string]openRun)
	}
	for k := range f.ends {
		f.ends[k] = slices.Grow(f.ends[k][:0], len(es))[:len(es)]
	}
	for _, k := range [...]int{actorRuns, subjectRuns} {
		ends := f.ends[k]
		clear(f.open)
		for i := range es {
			v := es[i].ActorID
			if k == subjectRuns {
				v = es[i].Subject
			}
			if r, ok := f.open[v]; ok && i-r.last <= auditRunReach {
				ends[r.start], ends[i] = i, -1
				f.open[v] = openRun{r.start, i}
				continue
			}
			f.open[v] = openRun{i, i}
			ends[i] = i
		}
	}
	// Times as the column stores them (Unix microseconds on SQLite), not
	// as time.Time compares them: two readings of time.Now compare by the
	// monotonic clock, which goes on where the wall clock steps back.
	ends, start := f.ends[timeRuns], 0
	span := auditTimeRunSpan.Microseconds()
	for i := range es {
		t := es[i].Time.UnixMicro()
		// t >= the run's first time here, so their difference fits
		// in a uint64 even where it overflows an int64.
		if i == 0 || t < es[i-1].Time.UnixMicro() || uint64(t-es[start].Time.UnixMicro()) > uint64(span) {
			start = i
		} else {
			ends[start] = i
			ends[i] = -1
			continue
		}
		ends[i] = i
	}
	return f.ends
}

// reset lets go of the batch's strings.
func (f *runFinder) reset() { clear(f.open) }

// Size returns the number of entries in the log, as the head row records
// it.
func (s *AuditStore) Size(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, storeErr(ctx, "audit log size", err)
	}
	var size int64
	err := s.db.sql.QueryRowContext(ctx, s.qSize).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		err = errors.New("the row of dataward_audit_head is missing")
	}
	if err != nil {
		return 0, storeErr(ctx, "audit log size", err)
	}
	return size, nil
}

// ReadEntries returns the entries at positions [start, start+n), in order;
// fewer at the end of the log. Times are in UTC, to the microsecond.
func (s *AuditStore) ReadEntries(ctx context.Context, start int64, n int) ([]audit.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read audit entries", err)
	}
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("sqlstore: read audit entries (%d, %d): negative argument", start, n)
	}
	if n == 0 {
		return nil, nil
	}
	out, err := s.queryEntries(ctx, s.qRead, start, int64(n))
	if err != nil {
		return nil, storeErr(ctx, "read audit entries", err)
	}
	return out, nil
}

// ReadHashes returns the stored hashes at the given storage indexes, in
// the same order, with one query however many are asked for. An index that
// was never stored is an error matching [audit.ErrNotFound].
func (s *AuditStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read audit hashes", err)
	}
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	found, err := s.readHashes(ctx, indexes)
	if err != nil {
		return nil, storeErr(ctx, "read audit hashes", err)
	}
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("sqlstore: read audit hashes: %w: stored hash %d", audit.ErrNotFound, x)
		}
		out[i] = h
	}
	return out, nil
}

func (s *AuditStore) readHashes(ctx context.Context, indexes []int64) (map[int64]tlog.Hash, error) {
	// The hash at storage index x was stored with the entry that completed
	// its subtree: the last leaf of subtree k at its level.
	// No entry's hashes reach math.MaxInt64 (the first hash of entry
	// 1<<62 has that index, and those after it overflow), and
	// tlog.SplitStoredHashIndex never returns for it: like a negative
	// index, it is not found.
	entries := make([]int64, 0, len(indexes))
	for _, x := range indexes {
		if x >= 0 && x < math.MaxInt64 {
			level, k := tlog.SplitStoredHashIndex(x)
			entries = append(entries, (k+1)<<level-1)
		}
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qHashes, s.db.dialect.int64List(entries))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(indexes))
	for rows.Next() {
		var n int64
		var hs []byte
		if err := rows.Scan(&n, bytesCol{&hs}); err != nil {
			return nil, err
		}
		first, end := tlog.StoredHashIndex(0, n), tlog.StoredHashIndex(0, n+1)
		if int64(len(hs)) != (end-first)*tlog.HashSize {
			// Not the hashes of entry n: the row was moved or altered.
			// Its hashes are missing, which audit.Verify reports.
			continue
		}
		for x := first; x < end; x++ {
			found[x] = tlog.Hash(hs[(x-first)*tlog.HashSize:])
		}
	}
	return found, rows.Err()
}

// filterFields says which fields of an [audit.Filter] a query tests in
// SQL, one bit per element of filterConds.
type filterFields uint

// The conditions of Query that the database tests, in the order of their
// bits: those on indexed columns. The two on time compare with the bound
// rounded up to the microsecond, which selects the same stored times as
// comparing with the bound itself; a bound beyond the times the column
// can hold is no condition, or one that nothing meets (see timeBounds).
var filterConds = []struct {
	sql string                                            // on the row e
	arg func(d Dialect, f audit.Filter, b timeBounds) any // nil: no condition
}{
	{"e.time >= ?", func(_ Dialect, _ audit.Filter, b timeBounds) any { return b.from }},
	{"e.time < ?", func(_ Dialect, _ audit.Filter, b timeBounds) any { return b.to }},
	{"e.actor_id = ?", func(_ Dialect, f audit.Filter, _ timeBounds) any { return nonEmpty(f.ActorID) }},
	{"e.subject = ?", func(_ Dialect, f audit.Filter, _ timeBounds) any { return nonEmpty(f.Subject) }},
}

// The bits of filterConds.
const (
	fromField filterFields = 1 << iota
	toField
	actorField
	subjectField
)

// driver returns the kind of runs (actorRuns, subjectRuns or timeRuns)
// whose index the query reads, or -1 if it reads the log in order (or the
// indexes hold entries, not runs): the subject's if the query has a
// condition on it, then the actor's, then time's.
func (fields filterFields) driver(runs bool) int {
	switch {
	case !runs:
		return -1
	case fields&subjectField != 0:
		return subjectRuns
	case fields&actorField != 0:
		return actorRuns
	case fields&(fromField|toField) != 0:
		return timeRuns
	}
	return -1
}

// timeBounds are the arguments of Query's conditions on time: nil for
// none.
type timeBounds struct{ from, to any }

// queryTimeBounds converts the bounds of f on time into arguments for
// the column, and reports whether no time the column can hold meets
// them. A zero bound is none. Any other is rounded up to the microsecond
// and, if it lies beyond the range of the column's times (where binding
// it would overflow, or make the database fail), replaced by what it
// means there: no condition, or one that nothing meets.
func queryTimeBounds(d Dialect, f audit.Filter) (b timeBounds, empty bool) {
	// lo and hi are whole microseconds: a bound lies beyond them exactly
	// when it does once rounded up.
	lo, hi := d.timeRange()
	if !f.From.IsZero() {
		switch {
		case f.From.After(hi):
			return b, true
		case f.From.After(lo):
			b.from = d.instantArg(ceilMicro(f.From))
		}
	}
	if !f.To.IsZero() {
		switch {
		case !f.To.After(lo):
			return b, true
		case !f.To.After(hi):
			b.to = d.instantArg(ceilMicro(f.To))
		}
	}
	return b, false
}

// fieldsMatch reports whether e passes the conditions of f on the fields
// that no column holds, which Query tests once it has read e.
func fieldsMatch(e *audit.Entry, f *audit.Filter) bool {
	return (f.Action == "" || e.Action == f.Action) &&
		(f.ResourceType == "" || e.ResourceType == f.ResourceType) &&
		(f.ResourceID == "" || e.ResourceID == f.ResourceID) &&
		(f.Outcome == "" || e.Outcome == f.Outcome)
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ceilMicro rounds t up to the microsecond. For a time t stored to the
// microsecond, t >= x exactly when t >= ceilMicro(x), and t < x exactly
// when t < ceilMicro(x).
func ceilMicro(t time.Time) time.Time {
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}

// queryPageRows is how many rows Query reads at a time when it tests
// conditions on fields itself: a selective condition (an action among
// many) reads several such pages for one page of results.
const queryPageRows = 512

// Query returns the entries that match f, in ascending order of Index, at
// most f.Limit of them, as [audit.Store] specifies. The conditions on time,
// actor and subject are the SQL query's, served by their indexes, which
// read f.Limit entries after the cursor f.After without reading the rest.
// (On SQLite those indexes hold runs of entries, not entries: a query on
// subject or actor alone reads fewer than auditRunReach rows for each
// entry it returns.)
// Those on action, resource and outcome, fields that only the entry's
// data holds, are tested on the rows read, which are then read a page at
// a time until f.Limit entries match or the rows run out.
func (s *AuditStore) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "query audit log", err)
	}
	if f.Limit <= 0 {
		return nil, fmt.Errorf("sqlstore: query audit log: Limit must be positive, not %d", f.Limit)
	}
	d := s.db.dialect
	bounds, empty := queryTimeBounds(d, f)
	if empty || !d.textOK(f.ActorID) || !d.textOK(f.Subject) {
		// No entry can match: none has such a time, or holds such text
		// (Append refuses what the database cannot store as text).
		return nil, nil
	}
	var fields filterFields
	var vals []any
	for i, c := range filterConds {
		if arg := c.arg(d, f, bounds); arg != nil {
			fields |= 1 << i
			vals = append(vals, arg)
		}
	}
	// The conditions on the runs that the query reads.
	var runVals []any
	switch fields.driver(s.runs) {
	case subjectRuns:
		runVals = append(runVals, f.Subject)
	case actorRuns:
		runVals = append(runVals, f.ActorID)
	case timeRuns:
		if bounds.from != nil {
			lo, _ := d.timeRange()
			// A run's times lie within auditTimeRunSpan of its first
			// one as stored too: truncated to whole microseconds, two
			// times move apart by less than a microsecond.
			from := ceilMicro(f.From).Add(-auditTimeRunSpan)
			runVals = append(runVals, d.instantArg(latest(from, lo)))
		}
		if bounds.to != nil {
			runVals = append(runVals, bounds.to)
		}
	}
	if fields.driver(s.runs) >= 0 {
		if err := s.indexEarlierEntries(ctx); err != nil {
			return nil, storeErr(ctx, "query audit log", err)
		}
	}
	q := &auditQuery{s: s, fields: fields, vals: vals, runVals: runVals}
	inGo := f.Action != "" || f.ResourceType != "" || f.ResourceID != "" || f.Outcome != ""
	if !inGo {
		out, err := q.page(ctx, max(f.After, -1), int64(f.Limit))
		if err != nil {
			return nil, storeErr(ctx, "query audit log", err)
		}
		return out, nil
	}
	rows := int64(max(f.Limit, queryPageRows))
	var out []audit.Entry
	for after := max(f.After, -1); ; {
		page, err := q.page(ctx, after, rows)
		if err != nil {
			return nil, storeErr(ctx, "query audit log", err)
		}
		for i := range page {
			if fieldsMatch(&page[i], &f) {
				out = append(out, page[i])
				if len(out) == f.Limit {
					return out, nil
				}
			}
		}
		if int64(len(page)) < rows {
			return out, nil
		}
		after = page[len(page)-1].Index
		if err := ctx.Err(); err != nil {
			return nil, storeErr(ctx, "query audit log", err)
		}
	}
}

// queryText returns Query's statement for the given fields, built once.
// Its arguments are the cursor, the values of the conditions in fields (in
// the order of filterConds), then, if it reads runs (fields.driver), their
// conditions' (see Query) and the cursor again, and last the limit.
//
// With a condition on subject or actor, it reads the runs of that value
// (rows r) whose end lies past the cursor, in order (the runs of one
// value are disjoint, so the order of their ends is the order of the
// log), and the entries in each run's stretch of the log (rows e) that
// pass every condition. The ORDER BY names every column of the run's
// index entry (r.idx being its rowid), so that SQLite sees that the join
// returns rows in that order already, and stops after LIMIT rows rather
// than sort every match first. With conditions on time alone, it reads
// the runs of times that may hold a match, and sorts the matches, as an
// index on time would have it do. (CROSS JOIN makes SQLite read r first.)
func (s *AuditStore) queryText(fields filterFields) string {
	return s.text(fields, "query", func() string {
		columns := "e." + strings.ReplaceAll(auditEntryColumns, ", ", ", e.")
		where := "e.idx > ?" + fields.eConds()
		runs, end := fields.runConds(s.runs)
		if runs == "" {
			return "SELECT " + columns + " FROM dataward_audit_entries e WHERE " + where + " ORDER BY e.idx LIMIT ?"
		}
		order := end + ", r.idx, e.idx"
		if fields.driver(s.runs) == timeRuns {
			order = "e.idx"
		}
		return "SELECT " + columns + " FROM dataward_audit_entries r CROSS JOIN dataward_audit_entries e WHERE " +
			"e.idx BETWEEN r.idx AND " + end + " AND " + where + " AND " + runs + " ORDER BY " + order + " LIMIT ?"
	})
}

// indexEarlierEntries makes each entry that a build from before migration
// 7 appended since (while it ran beside this one, during an upgrade) a run
// of its own, so that queries find it: that build left time_end at its
// default, -2, which an index of those entries alone (empty
// otherwise) finds at once. It looks at most once a second (a statement
// costs a query on SQLite about a third more), so such an entry may go
// unseen by queries for that long.
func (s *AuditStore) indexEarlierEntries(ctx context.Context) error {
	now := time.Now().UnixNano()
	last := s.earlierChecked.Load()
	if now-last < int64(time.Second) && now >= last || !s.earlierChecked.CompareAndSwap(last, now) {
		return nil
	}
	var n int
	err := s.db.sql.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM dataward_audit_entries WHERE time_end = -2 LIMIT 1) AS x").Scan(&n)
	if err != nil || n == 0 {
		return err
	}
	_, err = s.db.sql.ExecContext(ctx, "UPDATE dataward_audit_entries SET actor_end = idx, subject_end = idx, time_end = idx WHERE time_end = -2")
	return err
}

// runConds returns the conditions on the runs (rows r) that the query for
// fields reads, whose arguments are those of the runs' conditions (see
// Query) and the cursor, and the column of their ends; "" if it reads the
// log in order.
func (fields filterFields) runConds(runs bool) (conds, end string) {
	switch fields.driver(runs) {
	case subjectRuns:
		return "r.subject = ? AND r.subject_end > ?", "r.subject_end"
	case actorRuns:
		return "r.actor_id = ? AND r.actor_end > ?", "r.actor_end"
	case timeRuns:
		return fields.timeSpan() + " AND r.time_end > ?", "r.time_end"
	}
	return "", ""
}

// auditQuery reads the pages of one Query.
type auditQuery struct {
	s             *AuditStore
	fields        filterFields
	vals, runVals []any // the arguments of the conditions, and of those on runs
}

// manyTimeRuns is how many runs of times a query reads, sorting what they
// hold, before it reads the log in order instead (see auditQuery.page);
// inOrderWindow is how much of the log it reads in order at a time.
const (
	manyTimeRuns  = 256
	inOrderWindow = 4096
)

// page returns the first limit entries after the cursor after that match
// q's conditions.
//
// With conditions on time alone, it first looks at the latest 2 *
// manyTimeRuns runs of times in the span (the index of runs read
// backwards). If the span holds no more, and at most manyTimeRuns of them
// end past the cursor (a recent hour of a long log), it reads those runs
// and sorts their matches. Otherwise (a long span) it reads the log in
// order, inOrderWindow entries at a time, from the cursor if the entry
// after it matches, else from the first run of the span; and it stops
// once no run of the span ends past what it has read. A sort of every
// match would read them all to return a page; reading in order from the
// cursor, the whole log before a span that starts late, and after one
// that ends early.
func (q *auditQuery) page(ctx context.Context, after, limit int64) ([]audit.Entry, error) {
	s := q.s
	if q.fields.driver(s.runs) != timeRuns {
		return s.queryEntries(ctx, s.queryText(q.fields), q.args(after, limit)...)
	}
	span := q.fields.timeSpan()
	var runs, past int64
	err := s.db.sql.QueryRowContext(ctx, s.text(q.fields, "probe", func() string {
		return "SELECT count(*), coalesce(sum(time_end > ?), 0) FROM (SELECT r.time_end FROM dataward_audit_entries r" +
			" INDEXED BY dataward_audit_entries_time_runs WHERE " + span + " ORDER BY r.time DESC LIMIT ?) AS runs"
	}), append(append([]any{after}, q.runVals...), int64(2*manyTimeRuns+1))...).Scan(&runs, &past)
	if err != nil {
		return nil, err
	}
	if runs <= 2*manyTimeRuns && past <= manyTimeRuns {
		return s.queryEntries(ctx, s.queryText(q.fields), q.args(after, limit)...)
	}

	var first int
	err = s.db.sql.QueryRowContext(ctx, s.text(q.fields, "first", func() string {
		return "SELECT count(*) FROM dataward_audit_entries e WHERE e.idx = ?" + q.fields.eConds()
	}), append([]any{after + 1}, q.vals...)...).Scan(&first)
	if err != nil {
		return nil, err
	}
	start := after
	if first == 0 {
		var lo sql.NullInt64
		err := s.db.sql.QueryRowContext(ctx, s.text(q.fields, "start", func() string {
			return "SELECT min(r.idx) FROM dataward_audit_entries r INDEXED BY dataward_audit_entries_time_runs WHERE " +
				span + " AND r.time_end > ?"
		}), append(slices.Clip(q.runVals), after)...).Scan(&lo)
		if err != nil {
			return nil, err
		}
		if !lo.Valid {
			return nil, nil // no run of those times ends past the cursor
		}
		start = max(after, lo.Int64-1)
	}
	window := s.text(q.fields, "window", func() string {
		return "SELECT " + auditEntryColumns + " FROM dataward_audit_entries e WHERE e.idx > ? AND e.idx <= ?" +
			q.fields.eConds() + " ORDER BY e.idx LIMIT ?"
	})
	more := s.text(q.fields, "more", func() string {
		return "SELECT count(*) FROM (SELECT 1 FROM dataward_audit_entries r INDEXED BY dataward_audit_entries_time_runs WHERE " +
			span + " AND r.time_end > ? ORDER BY r.time DESC LIMIT 1) AS runs"
	})
	var out []audit.Entry
	for {
		end := int64(math.MaxInt64)
		if start < math.MaxInt64-inOrderWindow {
			end = start + inOrderWindow
		}
		args := append(append([]any{start, end}, q.vals...), limit-int64(len(out)))
		page, err := s.queryEntries(ctx, window, args...)
		if err != nil {
			return nil, err
		}
		if out = append(out, page...); int64(len(out)) == limit || end == math.MaxInt64 {
			return out, nil
		}
		var n int
		if err := s.db.sql.QueryRowContext(ctx, more, append(slices.Clip(q.runVals), end)...).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start = end
	}
}

// timeSpan returns the conditions on the runs of times (rows r) that may
// hold a match of fields' conditions on time, whose arguments are those of
// the runs' conditions (see Query).
func (fields filterFields) timeSpan() string {
	conds := "r.time_end >= 0"
	if fields&fromField != 0 {
		conds += " AND r.time >= ?"
	}
	if fields&toField != 0 {
		conds += " AND r.time < ?"
	}
	return conds
}

// eConds returns the conditions of fields on the row e, each after AND.
func (fields filterFields) eConds() string {
	var b strings.Builder
	for i, c := range filterConds {
		if fields&(1<<i) != 0 {
			b.WriteString(" AND " + c.sql)
		}
	}
	return b.String()
}

// args returns the arguments of queryText's statement for q.
func (q *auditQuery) args(after, limit int64) []any {
	args := make([]any, 0, len(q.vals)+len(q.runVals)+3)
	args = append(args, after)
	args = append(args, q.vals...)
	if q.runVals != nil {
		args = append(args, q.runVals...)
		args = append(args, after)
	}
	return append(args, limit)
}

// text returns the statement that build makes for fields and kind, built
// once.
func (s *AuditStore) text(fields filterFields, kind string, build func() string) string {
	key := struct {
		fields filterFields
		kind   string
	}{fields, kind}
	if q, ok := s.queries.Load(key); ok {
		return q.(string)
	}
	q, _ := s.queries.LoadOrStore(key, s.db.dialect.rebind(build()))
	return q.(string)
}

func (s *AuditStore) queryEntries(ctx context.Context, query string, args ...any) ([]audit.Entry, error) {
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Entry
	var fields []byte
	for rows.Next() {
		var e audit.Entry
		err := rows.Scan(&e.Index, bytesCol{&e.Data}, timeCol{&e.Time}, &e.ActorID, &e.Subject, bytesCol{&fields})
		if err != nil {
			return nil, err
		}
		readEntryFields(&e, fields)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// The column fields holds what an entry's Data does not: NULL for an entry
// whose columns are those Data encodes (audit.Entry.FromData), as every
// entry of a Logger's is; otherwise Action, Class, ResourceType, ResourceID
// and Outcome, each as its length (uvarint) and bytes.

func entryFieldsLen(e *audit.Entry) int {
	n := 0
	for _, s := range [...]string{e.Action, e.Class, e.ResourceType, e.ResourceID, string(e.Outcome)} {
		n += binary.MaxVarintLen64 + len(s)
	}
	return n
}

func appendEntryFields(dst []byte, e *audit.Entry) []byte {
	for _, s := range [...]string{e.Action, e.Class, e.ResourceType, e.ResourceID, string(e.Outcome)} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// readEntryFields sets the fields of e that no column of its own holds,
// from fields (the column) or, if it is NULL, from e.Data. A row altered
// so that neither reads leaves them empty: what matters of a damaged
// entry is its Data, which audit.Verify checks.
func readEntryFields(e *audit.Entry, fields []byte) {
	if fields == nil {
		if d, err := audit.DecodeEntry(e.Data); err == nil {
			e.Action, e.Class, e.ResourceType, e.ResourceID, e.Outcome = d.Action, d.Class, d.ResourceType, d.ResourceID, d.Outcome
		}
		return
	}
	var strs [5]string
	for i := range strs {
		n, k := binary.Uvarint(fields)
		if k <= 0 || n > uint64(len(fields)-k) {
			return
		}
		strs[i] = string(fields[k : k+int(n)])
		fields = fields[k+int(n):]
	}
	e.Action, e.Class, e.ResourceType, e.ResourceID, e.Outcome = strs[0], strs[1], strs[2], strs[3], audit.Outcome(strs[4])
}

// AddCheckpoint records c, unless a checkpoint of size c.Size is already
// recorded: then it does nothing (INSERT ... ON CONFLICT DO NOTHING).
func (s *AuditStore) AddCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "add audit checkpoint", err)
	}
	_, err := s.db.sql.ExecContext(ctx, s.qAddCheckpoint, c.Size, c.Root[:], s.db.dialect.timeArg(c.Time), bytesArg(c.Note))
	if err != nil {
		return storeErr(ctx, "add audit checkpoint", err)
	}
	return nil
}

// Checkpoints returns the recorded checkpoints of size at least minSize,
// in ascending order of size, at most limit of them. A limit of zero or
// less returns none.
func (s *AuditStore) Checkpoints(ctx context.Context, minSize int64, limit int) ([]audit.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "read audit checkpoints", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.sql.QueryContext(ctx, s.qCheckpoints, minSize, int64(limit))
	if err != nil {
		return nil, storeErr(ctx, "read audit checkpoints", err)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, storeErr(ctx, "read audit checkpoints", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(ctx, "read audit checkpoints", err)
	}
	return out, nil
}

// LatestCheckpoint returns the recorded checkpoint of the largest size, or
// an error matching [audit.ErrNotFound] if there is none.
func (s *AuditStore) LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return audit.Checkpoint{}, storeErr(ctx, "latest audit checkpoint", err)
	}
	c, err := scanCheckpoint(s.db.sql.QueryRowContext(ctx, s.qLatestCheckpoint))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Checkpoint{}, fmt.Errorf("sqlstore: latest audit checkpoint: %w: none recorded", audit.ErrNotFound)
	}
	if err != nil {
		return audit.Checkpoint{}, storeErr(ctx, "latest audit checkpoint", err)
	}
	return c, nil
}

func scanCheckpoint(row rowScanner) (audit.Checkpoint, error) {
	var c audit.Checkpoint
	var root []byte
	if err := row.Scan(&c.Size, bytesCol{&root}, timeCol{&c.Time}, bytesCol{&c.Note}); err != nil {
		return audit.Checkpoint{}, err
	}
	if len(root) != tlog.HashSize {
		return audit.Checkpoint{}, fmt.Errorf("corrupt checkpoint of size %d: a root of %d bytes", c.Size, len(root))
	}
	c.Root = tlog.Hash(root)
	return c, nil
}

// storeErr prefixes err with the operation, for every store of the package. When ctx is done, the error
// also matches ctx.Err(), even if the driver reported the interruption in
// its own words.
func storeErr(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// multiInsert inserts many rows of one table with few statements: INSERT
// ... VALUES (?, ...), (?, ...), ... One statement for many rows costs one
// round trip and, on SQLite, one statement to compile, where one per row
// would cost a few hundred.
//
// The statements hold a power of two of rows, up to maxRows: 200 rows go
// in as 128 + 64 + 8. A few more round trips than one statement of
// exactly 200 rows, but only a handful of distinct statements, which pgx
// prepares once per connection and PostgreSQL plans once. (One statement
// per row count would fill pgx's statement cache, and the memory of the
// server's sessions, with large statements seldom used again; left
// unprepared, each would be parsed and planned afresh, which costs more
// than the round trips saved.)
type multiInsert struct {
	d       Dialect
	prefix  string // INSERT INTO table (columns) VALUES
	cols    int
	maxRows int // a power of two

	mu    sync.Mutex
	texts map[int]string // by row count
}

func newMultiInsert(d Dialect, table, columns string, cols, maxRows int) *multiInsert {
	if maxRows <= 0 || maxRows&(maxRows-1) != 0 {
		panic("sqlstore: multiInsert: maxRows must be a power of two")
	}
	return &multiInsert{
		d:       d,
		prefix:  "INSERT INTO " + table + " (" + columns + ") VALUES ",
		cols:    cols,
		maxRows: maxRows,
		texts:   make(map[int]string),
	}
}

// exec inserts the rows whose values are args, m.cols per row.
func (m *multiInsert) exec(ctx context.Context, q querier, args []any) error {
	if len(args)%m.cols != 0 {
		return fmt.Errorf("internal error: %d values for rows of %d", len(args), m.cols)
	}
	for len(args) > 0 {
		rows := min(1<<(bits.Len(uint(len(args)/m.cols))-1), m.maxRows)
		n := rows * m.cols
		if _, err := q.ExecContext(ctx, m.text(rows), args[:n]...); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}

func (m *multiInsert) text(rows int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.texts[rows]; ok {
		return t
	}
	row := "(?" + strings.Repeat(", ?", m.cols-1) + ")"
	var b strings.Builder
	b.Grow(len(m.prefix) + rows*(len(row)+2))
	b.WriteString(m.prefix)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	t := m.d.rebind(b.String())
	m.texts[rows] = t
	return t
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
