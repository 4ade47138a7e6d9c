package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"sync/atomic"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/pii"
)

func keyRec(subject string) pii.KeyRecord {
	return pii.KeyRecord{Subject: dataward.SubjectID(subject), KeyID: 1, Wrapped: []byte("wrapped " + subject)}
}

func TestParseDSN(t *testing.T) {
	const defaults = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	tests := []struct {
		dsn     string
		dialect Dialect
		name    string
	}{
		{"postgres://u@h/db", Postgres, "postgres://u@h/db"},
		{"PostgreSQL://u@h/db?sslmode=disable", Postgres, "postgresql://u@h/db?sslmode=disable"},
		{"sqlite:/var/x.db", SQLite, "/var/x.db?" + defaults},
		{"sqlite:///var/x.db", SQLite, "/var/x.db?" + defaults},
		{"sqlite://rel/x.db", SQLite, "rel/x.db?" + defaults},
		{"sqlite:x.db?_pragma=cache_size(-2000)", SQLite, "x.db?_pragma=cache_size(-2000)&" + defaults},
		{"file:x.db?mode=rwc", SQLite, "file:x.db?mode=rwc&" + defaults},
		{"file:x.db", SQLite, "file:x.db?" + defaults},
		{"x.db?", SQLite, "x.db?" + defaults},
		{" /tmp/x.db\n", SQLite, "/tmp/x.db?" + defaults},
		{"C:/data/x.db", SQLite, "C:/data/x.db?" + defaults},
		{"x.db?_pragma=Journal_Mode(DELETE)&_fk=0&_timeout=5&_sync=OFF&_txlock=deferred&_pragma=secure_delete=FAST",
			SQLite, "x.db?_pragma=Journal_Mode(DELETE)&_fk=0&_timeout=5&_sync=OFF&_txlock=deferred&_pragma=secure_delete=FAST&_pragma=temp_store(MEMORY)"},
	}
	for _, tt := range tests {
		d, name, err := parseDSN(tt.dsn)
		require.NoError(t, err, tt.dsn)
		require.Equal(t, tt.dialect, d, tt.dsn)
		require.Equal(t, tt.name, name, tt.dsn)
		if d == SQLite {
			_, q, _ := strings.Cut(name, "?")
			_, err := url.ParseQuery(q)
			require.NoError(t, err, "the driver must be able to parse %q", name)
		}
	}
}

func TestSQLiteInMemory(t *testing.T) {
	for dsn, want := range map[string]bool{
		":memory:": true, "file::memory:": true, "file:x?mode=memory&cache=shared": true,
		"x.db": false, "file:x.db?mode=rwc": false, "x.db?mode=memory": false,
	} {
		_, name, err := parseDSN(dsn)
		require.NoError(t, err)
		require.Equal(t, want, sqliteInMemory(name), dsn)
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE a = ? AND b > ?", "SELECT a FROM t WHERE a = $1 AND b > $2"},
		{"SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = ?", "SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = $1"},
		{"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT ? -- trailing ?", "SELECT $1 -- trailing ?"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Postgres.rebind(tt.in), tt.in)
		require.Equal(t, tt.in, SQLite.rebind(tt.in), tt.in)
	}
}

func TestExpand(t *testing.T) {
	in := "CREATE TABLE t (a {{BYTES}}, b {{ TIMESTAMP }}, c {{BYTEWISE_TEXT}})"
	got, err := SQLite.expand(in)
	require.NoError(t, err)
	require.Equal(t, "CREATE TABLE t (a BLOB, b INTEGER, c TEXT)", got)
	got, err = Postgres.expand(in)
	require.NoError(t, err)
	require.Equal(t, `CREATE TABLE t (a BYTEA, b TIMESTAMPTZ, c TEXT COLLATE "C")`, got)

	_, err = Postgres.expand("CREATE TABLE t (a {{BLOB}}, b {{bytes}})")
	require.EqualError(t, err, "unknown type token {{BLOB}}, {{bytes}}")
}

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := embeddedMigrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, int64(i+1), m.version, "versions are 1, 2, 3, ... with no gaps")
		for _, d := range []Dialect{SQLite, Postgres} {
			require.NotContains(t, m.sql[d], "{{", "migration %d for %s", m.version, d)
		}
	}
	require.Equal(t, "pii_keys", ms[0].name)
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := loadMigrations(fstest.MapFS{
		"m/0010_later.sql":            file("CREATE TABLE later (b {{BYTES}})"),
		"m/0002_split.sqlite.sql":     file("sqlite"),
		"m/0002_split.postgres.sql":   file("postgres"),
		"m/1_first.sql":               file("first"),
		"m/0003_pg_only.postgres.sql": file("pg only"),
	}, "m")
	require.NoError(t, err)
	require.Len(t, ms, 4)
	require.Equal(t, []int64{1, 2, 3, 10}, []int64{ms[0].version, ms[1].version, ms[2].version, ms[3].version})
	require.Equal(t, "split", ms[1].name)
	require.Equal(t, "sqlite", ms[1].sql[SQLite])
	require.Equal(t, "postgres", ms[1].sql[Postgres])
	require.Equal(t, "", ms[2].sql[SQLite], "a no-op on SQLite")
	require.Equal(t, "CREATE TABLE later (b BYTEA)", ms[3].sql[Postgres])

	bad := map[string]fstest.MapFS{
		"is not named":               {"m/first.sql": file("")},
		"is not named ":              {"m/0001_First.sql": file("")},
		"positive":                   {"m/0000_zero.sql": file("")},
		"has two names":              {"m/0001_a.sql": file(""), "m/0001_b.sqlite.sql": file("")},
		"has more than one file":     {"m/0001_a.sql": file(""), "m/0001_a.sqlite.sql": file("")},
		"unknown type token {{BLB}}": {"m/0001_a.sql": file("{{BLB}}")},
	}
	for want, fsys := range bad {
		_, err := loadMigrations(fsys, "m")
		require.ErrorContains(t, err, strings.TrimSpace(want))
	}
}

// TestMigrateFailureRollsBack runs a made-up set of migrations whose second
// step fails halfway, and checks that the first stays applied and no trace
// of the second remains; then that a corrected second step applies.
func TestMigrateFailureRollsBack(t *testing.T) {
	dsns := map[Dialect]func(t *testing.T) string{
		SQLite:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "m.db") },
		Postgres: func(t *testing.T) string { return pgtest.DSN(t) },
	}
	for dialect, dsn := range dsns {
		t.Run(dialect.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			applied := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
			db, err := Open(ctx, dsn(t), &Options{SkipMigrate: true, Clock: dataward.ClockFunc(func() time.Time { return applied })})
			require.NoError(t, err)
			defer db.Close()

			one := migration{version: 1, name: "one", sql: map[Dialect]string{
				SQLite: "CREATE TABLE dw_one (a INTEGER)", Postgres: "CREATE TABLE dw_one (a INTEGER)"}}
			badTwo := migration{version: 2, name: "two", sql: map[Dialect]string{
				SQLite:   "CREATE TABLE dw_two (a INTEGER); INSERT INTO dw_one VALUES (1); SELECT * FROM no_such_table",
				Postgres: "CREATE TABLE dw_two (a INTEGER); INSERT INTO dw_one VALUES (1); SELECT * FROM no_such_table"}}
			err = db.migrate(ctx, []migration{one, badTwo})
			require.ErrorContains(t, err, "migration 2 (two)")

			versions := func() []int64 {
				rows, err := db.sql.Query("SELECT version FROM dataward_migrations ORDER BY version")
				require.NoError(t, err)
				defer rows.Close()
				var vs []int64
				for rows.Next() {
					var v int64
					require.NoError(t, rows.Scan(&v))
					vs = append(vs, v)
				}
				require.NoError(t, rows.Err())
				return vs
			}
			require.Equal(t, []int64{1}, versions())
			var n int
			require.NoError(t, db.sql.QueryRow("SELECT count(*) FROM dw_one").Scan(&n))
			require.Zero(t, n, "the failed migration's insert is rolled back")
			_, err = db.sql.Exec("SELECT * FROM dw_two")
			require.Error(t, err, "the failed migration's table is rolled back")

			goodTwo := migration{version: 2, name: "two", sql: map[Dialect]string{
				SQLite: "CREATE TABLE dw_two (a INTEGER)", Postgres: "CREATE TABLE dw_two (a INTEGER)"}}
			require.NoError(t, db.migrate(ctx, []migration{one, goodTwo}))
			require.Equal(t, []int64{1, 2}, versions())

			var at time.Time
			require.NoError(t, db.sql.QueryRow("SELECT applied_at FROM dataward_migrations WHERE version = 2").Scan(timeCol{&at}))
			require.Equal(t, applied, at, "applied_at comes from Options.Clock")

			// The pool is usable afterwards: no connection was left inside a
			// transaction.
			for range 5 {
				require.NoError(t, db.sql.PingContext(ctx))
				_, err := db.sql.Exec("INSERT INTO dw_one VALUES (2)")
				require.NoError(t, err)
			}
		})
	}
}

// TestCheckpointDoesNotWaitForReaders: while another connection holds a
// read transaction, the checkpoint after a shred gives up at once instead
// of waiting out the busy timeout, and leaves the connection's busy
// timeout as it was.
func TestCheckpointDoesNotWaitForReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(ctx, path, nil)
	require.NoError(t, err)
	defer db.Close()
	db.sql.SetMaxOpenConns(1) // so the test sees the connection checkpointWAL used

	_, err = db.KeyStore().Create(ctx, keyRec("s"))
	require.NoError(t, err)
	require.True(t, db.checkpointWAL(ctx), "no reader: the checkpoint completes")

	other, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer other.Close()
	reader, err := other.Conn(ctx)
	require.NoError(t, err)
	defer reader.Close()
	_, err = db.KeyStore().Create(ctx, keyRec("t")) // something in the log
	require.NoError(t, err)
	_, err = reader.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	var n int
	require.NoError(t, reader.QueryRowContext(ctx, "SELECT count(*) FROM dataward_pii_keys").Scan(&n))

	require.False(t, db.checkpointWAL(ctx), "a reader blocks the truncation")
	var timeout int
	require.NoError(t, db.sql.QueryRow("PRAGMA busy_timeout").Scan(&timeout))
	require.Equal(t, 10000, timeout, "busy_timeout restored")

	_, err = reader.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.True(t, db.checkpointWAL(ctx))
}

func TestTimeColRejectsOtherTypes(t *testing.T) {
	var tm time.Time
	require.Error(t, timeCol{&tm}.Scan("2026-01-01"))
	var b []byte
	require.Error(t, bytesCol{&b}.Scan(int64(1)))
	require.NoError(t, bytesCol{&b}.Scan([]byte{}))
	require.NotNil(t, b)
}

func TestScanKeyRecordRejectsBadKeyID(t *testing.T) {
	_, err := scanKeyRecord(fakeRow{int64(-1)})
	require.ErrorContains(t, err, "out of range")
	_, err = scanKeyRecord(fakeRow{int64(1) << 32})
	require.ErrorContains(t, err, "out of range")
}

type fakeRow struct{ keyID int64 }

func (r fakeRow) Scan(dest ...any) error {
	if len(dest) != 5 {
		return errors.New("want 5 columns")
	}
	*dest[0].(*string) = "s"
	*dest[1].(*int64) = r.keyID
	return nil
}

// TestAuditWriterCheckpoints: the SQLite writer leaves checkpoints to a
// goroutine, yet the write-ahead log stays within about
// writerAutocheckpoint pages however much is appended; DB.Close stops the
// goroutine, gives the connection back as it was, and later appends still
// work.
func TestAuditWriterCheckpoints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	db, err := Open(ctx, path, nil)
	require.NoError(t, err)
	defer db.Close()
	l, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)

	// About 64 MiB of log without checkpoints: 20,000 events of 3 KiB,
	// recorded by 64 goroutines so that they share commits.
	value := strings.Repeat("x", 1000)
	e := audit.Event{Action: "bulk.write", Metadata: []audit.Attr{{Key: "a", Value: value}, {Key: "b", Value: value}, {Key: "c", Value: value}}}
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for range 20000 / 64 {
				if err := l.Record(ctx, e); err != nil {
					t.Error(g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close(ctx))

	var pageSize int64
	require.NoError(t, db.sql.QueryRow("PRAGMA page_size").Scan(&pageSize))
	fi, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	bound := (writerAutocheckpoint + 1000) * (pageSize + 24) // 1000 pages of slack: a commit or two, and a checkpoint's lag
	t.Logf("write-ahead log: %d bytes, bound %d", fi.Size(), bound)
	require.Less(t, fi.Size(), bound, "the write-ahead log grew to %d bytes", fi.Size())
	db.audit.writer.mu.Lock()
	ckpt := db.audit.writer.ckpt
	db.audit.writer.mu.Unlock()
	require.NotNil(t, ckpt, "the checkpoint goroutine runs")

	require.NoError(t, db.Close())
	select {
	case <-ckpt.done:
	default:
		t.Fatal("DB.Close left the checkpoint goroutine running")
	}
	require.Nil(t, db.audit.writer.ckpt)
	require.Nil(t, db.audit.writer.conn)
}

// TestAuditWriterAfterClose: on a pool that DB.Close leaves open, appends
// after Close take a pooled connection, start no goroutine, and leave no
// connection with the writer's automatic checkpoint setting.
func TestAuditWriterAfterClose(t *testing.T) {
	ctx := context.Background()
	pool, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "p.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer pool.Close()
	pool.SetMaxOpenConns(2)
	db, err := OpenDB(ctx, pool, SQLite, nil)
	require.NoError(t, err)
	l, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	require.NoError(t, l.Record(ctx, audit.Event{Action: "a.b"}))
	require.NotNil(t, db.audit.writer.ckpt)
	require.NoError(t, db.Close())
	require.NoError(t, l.Record(ctx, audit.Event{Action: "a.b"}))
	require.Nil(t, db.audit.writer.ckpt)
	require.Nil(t, db.audit.writer.conn)
	var conns []*sql.Conn
	for range 2 { // both connections of the pool
		conn, err := pool.Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, conn)
		var pages int
		require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages))
		require.Equal(t, 1000, pages)
	}
	for _, conn := range conns {
		require.NoError(t, conn.Close())
	}
	require.NoError(t, l.Close(ctx))
	n, err := db.AuditStore().Size(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

// oneEntryBatch is the batch that appends one entry at index i of a log
// whose earlier hashes are in mem; it appends the same to mem.
func oneEntryBatch(t *testing.T, mem *audit.MemStore, i int64) audit.Batch {
	t.Helper()
	ctx := context.Background()
	e := audit.Entry{Index: i, Data: fmt.Appendf(nil, "record %d", i), Time: time.Unix(1, 0).UTC(), Action: "test"}
	hashes, err := tlog.StoredHashes(i, e.Data, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return mem.ReadHashes(ctx, indexes)
	}))
	require.NoError(t, err)
	b := audit.Batch{Entries: []audit.Entry{e}}
	first := tlog.StoredHashIndex(0, i)
	for k, h := range hashes {
		b.Hashes = append(b.Hashes, audit.StoredHash{Index: first + int64(k), Hash: h})
	}
	require.NoError(t, mem.Append(ctx, b))
	return b
}

// The audit writer connection commits without syncing, and Sync syncs the
// write-ahead log, only where the DSN left synchronous=FULL in WAL mode;
// the pool gets the connection back syncing its commits again.
func TestAuditWriterDefersSyncs(t *testing.T) {
	ctx := context.Background()
	level := func(conn interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		var n int
		require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n))
		return n
	}
	for _, tc := range []struct {
		params   string
		deferred bool
	}{
		{"", true},
		{"?_pragma=synchronous(NORMAL)", false},
		{"?_pragma=synchronous(EXTRA)", false},
		{"?_pragma=journal_mode(DELETE)", false},
	} {
		t.Run(tc.params, func(t *testing.T) {
			db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "a.db")+tc.params, nil)
			require.NoError(t, err)
			defer db.Close()
			s := db.AuditStore()
			mem := audit.NewMemStore()
			require.NoError(t, s.AppendUnsynced(ctx, oneEntryBatch(t, mem, 0)))
			w := &s.writer
			require.Equal(t, tc.deferred, w.unsynced)
			require.Equal(t, tc.deferred, strings.HasSuffix(w.wal.path, "a.db-wal"))
			if tc.deferred {
				require.Equal(t, 1, level(w.conn), "the writer commits with synchronous=NORMAL")
			}
			require.NoError(t, s.Sync(ctx))
			require.Equal(t, tc.deferred, w.wal.f != nil, "Sync syncs the log through a descriptor of its own")
			require.NoError(t, s.Append(ctx, oneEntryBatch(t, mem, 1)), "Append: AppendUnsynced and Sync")
			s.close()
			require.Nil(t, w.wal.f, "DB.Close closes the descriptor")
			require.NoError(t, s.Sync(ctx), "Sync after DB.Close")
			// The pool's connections, the writer's included, sync as the DSN says.
			conns := make([]*sql.Conn, 2)
			for i := range conns {
				conns[i], err = db.SQL().Conn(ctx)
				require.NoError(t, err)
				defer conns[i].Close()
				want := 2
				if strings.Contains(tc.params, "NORMAL") {
					want = 1
				} else if strings.Contains(tc.params, "EXTRA") {
					want = 3
				}
				require.Equal(t, want, level(conns[i]))
			}
			n, err := s.Size(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
		})
	}
}

// Sync follows the write-ahead log: SQLite truncates it (a TRUNCATE
// checkpoint, journal_size_limit) and writes it again from its start
// without replacing it, so that the descriptor Sync opened once still
// names it; and when the last connection closes, SQLite deletes it, and
// the next connection makes a new one, which Sync then opens.
func TestAuditSyncFollowsTheLog(t *testing.T) {
	ctx := context.Background()
	for _, params := range []string{"", "?_pragma=journal_size_limit(0)"} {
		t.Run(params, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.db")
			db, err := Open(ctx, "sqlite:"+path+params, nil)
			require.NoError(t, err)
			defer db.Close()
			s := db.AuditStore()
			w := &s.writer
			mem := audit.NewMemStore()
			next := int64(0)
			appendSynced := func() {
				t.Helper()
				require.NoError(t, s.AppendUnsynced(ctx, oneEntryBatch(t, mem, next)))
				next++
				require.NoError(t, s.Sync(ctx))
				fi, err := os.Stat(path + "-wal")
				require.NoError(t, err)
				require.True(t, os.SameFile(fi, w.wal.fi), "Sync holds the log that the path names")
				held, err := w.wal.f.Stat()
				require.NoError(t, err)
				require.Equal(t, fi.Size(), held.Size())
				require.Positive(t, held.Size())
			}
			appendSynced()
			first := w.wal.fi

			// Truncated by a checkpoint, written again from its start.
			require.True(t, db.checkpointWAL(ctx))
			fi, err := os.Stat(path + "-wal")
			require.NoError(t, err)
			require.Zero(t, fi.Size(), "the TRUNCATE checkpoint emptied the log")
			appendSynced()
			for range 50 { // and PASSIVE ones, the writer's own among them
				appendSynced()
				if next%10 == 0 {
					_, err := db.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
					require.NoError(t, err)
				}
			}
			require.True(t, os.SameFile(first, w.wal.fi), "one log file throughout")

			// Deleted when the last connection closes, while Sync holds
			// it open; made anew by the next append.
			w.mu.Lock()
			w.close()
			w.mu.Unlock()
			db.sql.SetMaxIdleConns(0)
			_, err = os.Stat(path + "-wal")
			require.ErrorIs(t, err, fs.ErrNotExist, "the last connection deleted the log")
			db.sql.SetMaxIdleConns(2)
			require.NoError(t, s.AppendUnsynced(ctx, oneEntryBatch(t, mem, next)))
			next++
			fi, err = os.Stat(path + "-wal")
			require.NoError(t, err)
			require.False(t, os.SameFile(first, fi), "a new log file")
			require.NoError(t, s.Sync(ctx))
			require.True(t, os.SameFile(fi, w.wal.fi), "Sync opened the new log")
			appendSynced()

			// Deleted with no descriptor held: Sync has nothing to sync.
			w.mu.Lock()
			w.close()
			w.mu.Unlock()
			w.wal.mu.Lock()
			w.wal.closeFile()
			w.wal.mu.Unlock()
			db.sql.SetMaxIdleConns(0)
			require.NoError(t, s.Sync(ctx))
			require.Nil(t, w.wal.f)
			db.sql.SetMaxIdleConns(2)
			appendSynced()

			n, err := s.Size(ctx)
			require.NoError(t, err)
			require.Equal(t, next, n)
			got, err := s.ReadEntries(ctx, 0, int(next))
			require.NoError(t, err)
			want, err := mem.ReadEntries(ctx, 0, int(next))
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].Data, got[i].Data)
			}
			root := func(st audit.Store) tlog.Hash {
				h, err := tlog.TreeHash(next, tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) { return st.ReadHashes(ctx, x) }))
				require.NoError(t, err)
				return h
			}
			require.Equal(t, root(mem), root(s))
		})
	}
}

// Once a sync of the log failed, Sync fails for good: a later one could
// succeed without the pages the kernel failed to write.
func TestAuditSyncFailureSticks(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "e.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	s := db.AuditStore()
	mem := audit.NewMemStore()
	require.NoError(t, s.Append(ctx, oneEntryBatch(t, mem, 0)))
	w := &s.writer
	w.wal.mu.Lock()
	w.wal.f.Close() // the next fdatasync fails
	w.wal.mu.Unlock()
	require.Error(t, s.Sync(ctx))
	require.Error(t, s.Sync(ctx), "a failed sync is not retried into success")
	require.Error(t, s.Append(ctx, oneEntryBatch(t, mem, 1)), "nor is an Append reported durable")
}

// countingCtx counts the calls of Err, and from call failAt on (if
// positive) reports the context canceled: a deadline that passes at a
// chosen point of an append. Its Done channel never closes, so that
// nothing but those checks sees it.
type countingCtx struct {
	context.Context
	calls  atomic.Int64
	failAt int64
}

func (c *countingCtx) Done() <-chan struct{} { return nil }

func (c *countingCtx) Err() error {
	if n := c.calls.Add(1); c.failAt > 0 && n >= c.failAt {
		return context.Canceled
	}
	return nil
}

// Append stores its batch and makes it durable, or on error stores
// nothing, as audit.Store requires: a context that ends once the batch is
// committed, where only the sync of the log remains (which a context
// cannot interrupt), must not turn a stored batch into an error, which
// tells the caller nothing was stored.
func TestAuditAppendCanceledAfterCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	s := db.AuditStore()
	mem := audit.NewMemStore()
	next := int64(0)
	// Warm up (the writer's connection, its prepared statements), then
	// count the checks of one Append.
	for range 3 {
		require.NoError(t, s.Append(ctx, oneEntryBatch(t, mem, next)))
		next++
	}
	var counts []int64
	for range 3 {
		c := &countingCtx{Context: ctx}
		require.NoError(t, s.Append(c, oneEntryBatch(t, mem, next)))
		next++
		counts = append(counts, c.calls.Load())
	}
	require.Equal(t, counts[0], counts[1], "the checks of an append are deterministic")
	require.Equal(t, counts[0], counts[2], "the checks of an append are deterministic")

	// The context ends at each of those checks in turn, the last one
	// after the commit: Append fails exactly when it stores nothing.
	for failAt := int64(1); failAt <= counts[0]; failAt++ {
		c := &countingCtx{Context: ctx, failAt: failAt}
		b := oneEntryBatch(t, mem, next) // also appended to mem
		err := s.Append(c, b)
		size, serr := s.Size(ctx)
		require.NoError(t, serr)
		if err != nil {
			require.Equal(t, next, size, "at check %d of %d, Append returned %q, yet stored the batch", failAt, counts[0], err)
			// Undo mem's copy: make mem anew up to next.
			mem = audit.NewMemStore()
			for i := range next {
				oneEntryBatch(t, mem, i)
			}
			continue
		}
		require.Equal(t, next+1, size, "at check %d, Append returned nil", failAt)
		next++
	}
}
