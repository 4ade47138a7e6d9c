package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/dataward/dataward"
)

// Options configures [Open] and [OpenDB]. A nil *Options means the
// defaults.
type Options struct {
	// SkipMigrate stops Open and OpenDB from applying migrations. The host
	// then calls [DB.Migrate] itself (or applies the schema by other means)
	// before using the stores.
	SkipMigrate bool

	// Clock gives the time recorded when a migration is applied. Nil means
	// [dataward.SystemClock]. The stores themselves take every time they
	// record from their callers.
	Clock dataward.Clock
}

// DB is a SQLite or PostgreSQL database holding the tables of dataward's
// stores. Get one from [Open] or [OpenDB], then the stores from its methods
// ([DB.KeyStore], [DB.AuditStore], [DB.ConsentStore], [DB.RBACStore],
// [DB.BreachStore]). A DB is safe for
// concurrent use, and any number of processes may share one database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	owned   bool // Close closes sql
	clock   dataward.Clock

	keys      *KeyStore
	audit     *AuditStore
	consent   *ConsentStore
	rbac      *RBACStore
	retention *RetentionStore
	breach    *BreachStore

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the database named by dsn, checks that it answers, and
// applies migrations unless opts.SkipMigrate is set.
//
// A dsn starting with postgres:// or postgresql:// opens PostgreSQL through
// pgx; its parameters are those of pgx and libpq (for example
// sslmode=verify-full, or search_path=myschema to keep dataward's tables in
// their own schema). Anything else opens a SQLite file:
//
//	sqlite:/var/lib/app/dataward.db
//	sqlite:///var/lib/app/dataward.db
//	file:/var/lib/app/dataward.db?mode=rwc
//	/var/lib/app/dataward.db
//
// SQLite connections get the settings listed in the package documentation
// (WAL, synchronous=FULL, secure_delete and others) unless the DSN sets the
// same PRAGMA itself. The directory must exist; the file is created if it
// does not.
//
// Errors name the cause (an unsupported scheme, a malformed DSN, a server
// that cannot be reached, a failed migration) and never include a
// PostgreSQL password. Close the DB when done with it.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	dialect, name, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	var pool *sql.DB
	switch dialect {
	case Postgres:
		cfg, err := pgx.ParseConfig(name)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: invalid PostgreSQL DSN: %w", err)
		}
		pool = stdlib.OpenDB(*cfg)
	case SQLite:
		pool, err = sql.Open("sqlite", name)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open SQLite database: %w", err)
		}
		if sqliteInMemory(name) {
			// Each connection to :memory: is a database of its own: keep
			// exactly one, for ever.
			pool.SetMaxOpenConns(1)
			pool.SetMaxIdleConns(1)
			pool.SetConnMaxIdleTime(0)
			pool.SetConnMaxLifetime(0)
		}
	}
	if err := ping(ctx, pool, dialect); err != nil {
		pool.Close()
		if dialect == SQLite {
			path, _, _ := strings.Cut(name, "?")
			return nil, fmt.Errorf("sqlstore: open SQLite database %q: %w", path, err)
		}
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	db := newDB(pool, dialect, true, opts)
	if opts == nil || !opts.SkipMigrate {
		if err := db.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

// sqliteBusyWait is how long Open retries a SQLite database that is busy
// being set up by another connection; it matches the busy_timeout of
// sqlitePragmas.
const sqliteBusyWait = 10 * time.Second

// ping checks that the database answers. The first connection to a fresh
// SQLite file turns WAL mode on, which needs the file to itself and fails at
// once with SQLITE_BUSY, without waiting in the busy handler, when another
// connection or process opens the file at the same moment; ping retries
// that for up to sqliteBusyWait.
func ping(ctx context.Context, pool *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(sqliteBusyWait)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := pool.PingContext(ctx)
		if err == nil || dialect != SQLite || !sqliteBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// sqliteBusy reports whether err is SQLITE_BUSY, or one of its extended
// codes, from modernc.org/sqlite.
func sqliteBusy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 5
}

// OpenDB uses a pool the host already has, which must be a pool of the
// given dialect: for SQLite, opened with driver "sqlite"
// (modernc.org/sqlite); for PostgreSQL, with pgx's database/sql driver
// ("pgx" or [stdlib.OpenDB]). It applies migrations unless
// opts.SkipMigrate is set. [DB.Close] leaves the pool open.
//
// For SQLite, the host's DSN should carry the settings [Open] would add
// (see the package documentation), notably secure_delete, which keeps
// shredded keys from lingering in free pages, and a busy_timeout.
func OpenDB(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*DB, error) {
	if db == nil {
		return nil, errors.New("sqlstore: OpenDB: the *sql.DB is nil")
	}
	if !dialect.valid() {
		return nil, fmt.Errorf("sqlstore: OpenDB: unknown dialect %v: want sqlstore.SQLite or sqlstore.Postgres", dialect)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: OpenDB: %w", err)
	}
	d := newDB(db, dialect, false, opts)
	if opts == nil || !opts.SkipMigrate {
		if err := d.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func newDB(pool *sql.DB, dialect Dialect, owned bool, opts *Options) *DB {
	db := &DB{sql: pool, dialect: dialect, owned: owned, clock: dataward.SystemClock}
	if opts != nil {
		db.clock = dataward.ClockOrSystem(opts.Clock)
	}
	db.keys = newKeyStore(db)
	db.audit = newAuditStore(db)
	db.consent = newConsentStore(db)
	db.rbac = newRBACStore(db)
	db.retention = newRetentionStore(db)
	db.breach = newBreachStore(db)
	return db
}

// SQL returns the pool the DB uses, for the host's own queries and
// transactions. Do not close it while the DB is in use.
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect reports which database the DB talks to.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the pool if [Open] opened it; a pool passed to [OpenDB]
// stays open. Before closing a SQLite pool, Close tries once more to
// checkpoint and truncate the write-ahead log (see [KeyStore.Shred]).
// Calling Close again returns the first result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.audit.close()
		if !db.owned {
			return
		}
		if db.dialect == SQLite {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			db.checkpointWAL(ctx)
			cancel()
		}
		if err := db.sql.Close(); err != nil {
			db.closeErr = fmt.Errorf("sqlstore: close: %w", err)
		}
	})
	return db.closeErr
}

// checkpointWAL copies the SQLite write-ahead log into the database file
// and truncates the log to zero bytes, without waiting for other
// connections: if one is reading or writing, it gives up and leaves the
// work to the next checkpoint. It reports whether the log was truncated.
func (db *DB) checkpointWAL(ctx context.Context) bool {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	// A TRUNCATE checkpoint waits in the busy handler for readers to
	// finish; with the usual timeout a shred could stall for seconds.
	var timeout int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return false
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return false
	}
	var busy, logFrames, checkpointed int64
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", timeout)); rerr != nil {
		discardConn(conn)
	}
	return err == nil && busy == 0
}
