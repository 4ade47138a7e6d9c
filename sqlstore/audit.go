package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
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
// On PostgreSQL the text fields of an entry must be valid UTF-8 without NUL
// bytes, as TEXT requires; an Append that breaks this fails and stores
// nothing. SQLite keeps any string.
//
// On SQLite, appends keep one connection of the pool for themselves, with
// their statements prepared, until [DB.Close] (a pool limited to a single
// connection is left alone). Each append is durable when it returns as the
// DSN's synchronous setting makes it (FULL, as [Open] sets it: the commit
// syncs the write-ahead log).
type AuditStore struct {
	db *DB

	qAdvance, qSize, qRead, qHashes string
	qAddCheckpoint, qCheckpoints    string
	qLatestCheckpoint               string
	insertEntries                   *multiInsert

	queries sync.Map // Query's statements: filterFields -> string

	writer sqliteWriter // SQLite appends, when the pool allows one more connection
}

// sqliteWriter is the connection that SQLite appends go through, kept from
// one append to the next with its statements prepared: parsing a
// multi-row INSERT again for every batch cost a tenth of an append. SQLite
// has a single writer anyway; appends from this process queue on mu, and
// other processes on the database's write lock.
type sqliteWriter struct {
	mu    sync.Mutex
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // by query text
	bufs  appendBuffers
}

// appendBuffers hold an append's statement arguments. The SQLite writer
// reuses them from one append to the next (under its mu), the driver
// having copied the values when it bound them: a batch of 64 entries has
// 704 arguments and about 4 KiB of tree hashes.
type appendBuffers struct {
	args []any
	blob []byte
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

var _ audit.Store = (*AuditStore)(nil)

// AuditStore returns the database's [audit.Store]. Every call returns the
// same one.
func (db *DB) AuditStore() *AuditStore { return db.audit }

const (
	auditEntryColumns      = "idx, data, time, action, class, actor_id, subject, resource_type, resource_id, outcome"
	auditInsertColumns     = auditEntryColumns + ", hashes"
	auditInsertColumnCount = 11
	auditCheckpointColumns = "size, root, time, note"

	// The most rows per INSERT statement (see multiInsert): enough for a
	// batch of the usual size (64 to 256 entries), and far below the limits
	// on ? per statement (32766 on SQLite, 65535 on PostgreSQL).
	auditEntriesPerInsert = 256
)

// The fields of audit.Entry kept in text columns, in the order of the
// columns (after idx, data and time).
var auditTextFields = [...]string{"Action", "Class", "ActorID", "Subject", "ResourceType", "ResourceID", "Outcome"}

func newAuditStore(db *DB) *AuditStore {
	d := db.dialect
	return &AuditStore{
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
		insertEntries: newMultiInsert(d, "dataward_audit_entries", auditInsertColumns, auditInsertColumnCount, auditEntriesPerInsert),
	}
}

// Append stores b in one transaction, durably, as [audit.Store] specifies. The
// transaction first advances the head row by the batch's size, which
// serialises appenders, then checks that b.Entries starts at the size the
// head held and is consecutive, and that b.Hashes starts at the number of
// stored hashes and is consecutive; it then inserts the entries and hashes,
// many rows per statement, and commits. If b starts anywhere but at the end
// of the log, the error matches [audit.ErrConflict]; on any error nothing
// is stored.
func (s *AuditStore) Append(ctx context.Context, b audit.Batch) error {
	if err := ctx.Err(); err != nil {
		return storeErr(ctx, "append to audit log", err)
	}
	if len(b.Entries) == 0 {
		return nil
	}
	var err error
	if s.db.dialect == SQLite && s.db.sql.Stats().MaxOpenConnections != 1 {
		err = s.appendSQLite(ctx, b)
	} else {
		err = s.db.withTx(ctx, func(q querier) error { return s.append(ctx, q, b, new(appendBuffers)) })
	}
	if err != nil {
		return storeErr(ctx, "append to audit log", err)
	}
	return nil
}

// appendSQLite appends through the writer connection. (A pool of one
// connection, such as :memory:'s, cannot spare one, and takes the common
// path.)
func (s *AuditStore) appendSQLite(ctx context.Context, b audit.Batch) error {
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		conn, err := s.db.sql.Conn(ctx)
		if err != nil {
			return err
		}
		w.conn = conn
	}
	err := s.db.inTx(ctx, w.conn, func(q querier) error { return s.append(ctx, preparedQuerier{w}, b, &w.bufs) })
	if err != nil && w.conn.PingContext(context.WithoutCancel(ctx)) != nil {
		w.close() // a broken connection: the next append takes a new one
	}
	return err
}

// close releases the writer connection; DB.Close calls it.
func (s *AuditStore) close() {
	s.writer.mu.Lock()
	defer s.writer.mu.Unlock()
	s.writer.close()
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
	d := s.db.dialect
	args := slices.Grow(bufs.args[:0], auditInsertColumnCount*len(b.Entries))
	blob := slices.Grow(bufs.blob[:0], tlog.HashSize*len(b.Hashes))
	defer func() {
		clear(args) // nothing of b is kept past the append
		bufs.args, bufs.blob = args[:0], blob[:0]
	}()
	h := 0 // next in b.Hashes
	for _, e := range b.Entries {
		texts := [len(auditTextFields)]string{e.Action, e.Class, e.ActorID, e.Subject, e.ResourceType, e.ResourceID, string(e.Outcome)}
		args = append(args, e.Index, bytesArg(e.Data), d.instantArg(e.Time))
		for i, text := range texts {
			if !d.textOK(text) {
				return fmt.Errorf("entry %d: %s is not valid UTF-8 or holds a NUL byte, which %s cannot store as text",
					e.Index, auditTextFields[i], d)
			}
			args = append(args, text)
		}
		start := len(blob)
		for end := tlog.StoredHashIndex(0, e.Index+1); h < len(b.Hashes) && b.Hashes[h].Index < end; h++ {
			blob = append(blob, b.Hashes[h].Hash[:]...)
		}
		if len(blob) == start {
			return fmt.Errorf("entry %d comes without its tree hashes", e.Index)
		}
		args = append(args, blob[start:len(blob):len(blob)])
	}
	if h != len(b.Hashes) {
		return fmt.Errorf("the batch holds %d tree hashes beyond those of its entries", len(b.Hashes)-h)
	}
	if err := s.insertEntries.exec(ctx, q, args); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	return nil
}

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
	entries := make([]int64, 0, len(indexes))
	for _, x := range indexes {
		if x >= 0 {
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

// filterFields says which fields of an [audit.Filter] a query tests, one
// bit per element of filterConds.
type filterFields uint

// The conditions of Query, in the order of their bits. The two on time
// compare with the bound rounded up to the microsecond, which selects the
// same stored times as comparing with the bound itself.
var filterConds = []struct {
	sql string
	arg func(d Dialect, f audit.Filter) any // nil: the field is zero
}{
	{"time >= ?", func(d Dialect, f audit.Filter) any { return d.timeArg(ceilMicro(f.From)) }},
	{"time < ?", func(d Dialect, f audit.Filter) any { return d.timeArg(ceilMicro(f.To)) }},
	{"action = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(f.Action) }},
	{"actor_id = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(f.ActorID) }},
	{"subject = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(f.Subject) }},
	{"resource_type = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(f.ResourceType) }},
	{"resource_id = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(f.ResourceID) }},
	{"outcome = ?", func(_ Dialect, f audit.Filter) any { return nonEmpty(string(f.Outcome)) }},
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

// Query returns the entries that match f, in ascending order of Index, at
// most f.Limit of them, as [audit.Store] specifies. Every field of f is a
// condition of the SQL query; an index per field that selects few entries
// (time, subject, actor, action, resource) serves pages of f.Limit entries
// after the cursor f.After without reading the rest.
func (s *AuditStore) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, storeErr(ctx, "query audit log", err)
	}
	if f.Limit <= 0 {
		return nil, fmt.Errorf("sqlstore: query audit log: Limit must be positive, not %d", f.Limit)
	}
	d := s.db.dialect
	args := []any{max(f.After, -1)}
	var fields filterFields
	for i, c := range filterConds {
		if arg := c.arg(d, f); arg != nil {
			fields |= 1 << i
			args = append(args, arg)
		}
	}
	args = append(args, int64(f.Limit))
	out, err := s.queryEntries(ctx, s.queryText(fields), args...)
	if err != nil {
		return nil, storeErr(ctx, "query audit log", err)
	}
	return out, nil
}

// queryText returns Query's statement for the given fields, built once.
func (s *AuditStore) queryText(fields filterFields) string {
	if q, ok := s.queries.Load(fields); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("SELECT " + auditEntryColumns + " FROM dataward_audit_entries WHERE idx > ?")
	for i, c := range filterConds {
		if fields&(1<<i) != 0 {
			b.WriteString(" AND " + c.sql)
		}
	}
	b.WriteString(" ORDER BY idx LIMIT ?")
	q, _ := s.queries.LoadOrStore(fields, s.db.dialect.rebind(b.String()))
	return q.(string)
}

func (s *AuditStore) queryEntries(ctx context.Context, query string, args ...any) ([]audit.Entry, error) {
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var outcome string
		err := rows.Scan(&e.Index, bytesCol{&e.Data}, timeCol{&e.Time}, &e.Action, &e.Class,
			&e.ActorID, &e.Subject, &e.ResourceType, &e.ResourceID, &outcome)
		if err != nil {
			return nil, err
		}
		e.Outcome = audit.Outcome(outcome)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
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
