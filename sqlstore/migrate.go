package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The migrations of every package, applied in order of their number. See
// "Adding a migration" in the package documentation.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema: the SQL to run, per dialect. An
// empty text for a dialect makes the step a no-op there, recorded all the
// same so that both dialects count versions alike.
type migration struct {
	version int64
	name    string
	sql     map[Dialect]string
}

var migrationNameRE = regexp.MustCompile(`^([0-9]+)_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$`)

// loadMigrations reads the migrations in dir of fsys: files named
// NNNN_name.sql (both dialects) or NNNN_name.sqlite.sql and
// NNNN_name.postgres.sql (one dialect each), in ascending order of NNNN.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	byVersion := make(map[int64]*migration)
	shared := make(map[int64]bool)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql, NNNN_name.sqlite.sql or NNNN_name.postgres.sql (lower case)", e.Name())
		}
		version, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %q: the version must be a positive number", e.Name())
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		mig := byVersion[version]
		if mig == nil {
			mig = &migration{version: version, name: m[2], sql: make(map[Dialect]string)}
			byVersion[version] = mig
		} else if mig.name != m[2] {
			return nil, fmt.Errorf("migration %d has two names, %q and %q", version, mig.name, m[2])
		}
		var dialects []Dialect
		switch m[3] {
		case "":
			if shared[version] || len(mig.sql) > 0 {
				return nil, fmt.Errorf("migration %d has more than one file", version)
			}
			shared[version] = true
			dialects = []Dialect{SQLite, Postgres}
		case "sqlite":
			dialects = []Dialect{SQLite}
		case "postgres":
			dialects = []Dialect{Postgres}
		}
		for _, d := range dialects {
			if _, dup := mig.sql[d]; dup {
				return nil, fmt.Errorf("migration %d has more than one file for %s", version, d)
			}
			expanded, err := d.expand(string(text))
			if err != nil {
				return nil, fmt.Errorf("migration file %q: %w", e.Name(), err)
			}
			mig.sql[d] = expanded
		}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}

var embeddedMigrations = sync.OnceValues(func() ([]migration, error) {
	return loadMigrations(migrationFiles, "migrations")
})

const migrationsTable = `CREATE TABLE IF NOT EXISTS dataward_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at {{TIMESTAMP}} NOT NULL
)`

// Migrate brings the schema up to date by applying, in order, each
// embedded migration that the database has not recorded in the table
// dataward_migrations. Each migration runs in its own transaction, together
// with the row that records it, so a failure leaves the database at the
// last migration that succeeded.
//
// Migrate is safe to call from several processes at once: on PostgreSQL it
// holds a session advisory lock (one per schema) for the whole run; on
// SQLite each migration runs in a BEGIN IMMEDIATE transaction that checks
// again whether another process applied it first. It returns an error if a
// migration recorded in the database has a different name from the one
// built in, which means migrations were renumbered. Versions recorded by a
// newer build and unknown to this one are left alone.
//
// [Open] and [OpenDB] call Migrate unless [Options].SkipMigrate is set.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := embeddedMigrations()
	if err != nil {
		return fmt.Errorf("sqlstore: embedded migrations: %w", err)
	}
	if err := db.migrate(ctx, ms); err != nil {
		return fmt.Errorf("sqlstore: migrate %s database: %w", db.dialect, err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context, ms []migration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	if db.dialect == Postgres {
		unlock, err := lockMigrations(ctx, conn)
		if err != nil {
			return err
		}
		defer unlock()
	}

	create, err := db.dialect.expand(migrationsTable)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create dataward_migrations: %w", err)
	}

	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		return err
	}
	for _, m := range ms {
		name, ok := applied[m.version]
		if ok && name != m.name {
			return fmt.Errorf("migration %d is recorded as %q but this build calls it %q: migrations must never be renumbered", m.version, name, m.name)
		}
		if ok {
			continue
		}
		if err := db.applyMigration(ctx, conn, m); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, conn *sql.Conn) (map[int64]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version, name FROM dataward_migrations")
	if err != nil {
		return nil, fmt.Errorf("read dataward_migrations: %w", err)
	}
	defer rows.Close()
	applied := make(map[int64]string)
	for rows.Next() {
		var v int64
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("read dataward_migrations: %w", err)
		}
		applied[v] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dataward_migrations: %w", err)
	}
	return applied, nil
}

// applyMigration runs m and records it, in one transaction, unless another
// process recorded it first.
func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, m migration) error {
	d := db.dialect
	return db.inTx(ctx, conn, func(q querier) error {
		var name string
		err := q.QueryRowContext(ctx, d.rebind("SELECT name FROM dataward_migrations WHERE version = ?"), m.version).Scan(&name)
		switch {
		case err == nil && name == m.name:
			return nil // applied meanwhile by another process
		case err == nil:
			return fmt.Errorf("recorded as %q by another process", name)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if text := m.sql[d]; text != "" {
			if _, err := q.ExecContext(ctx, text); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, d.rebind("INSERT INTO dataward_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.version, m.name, d.timeArg(db.clock.Now()))
		return err
	})
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// withTx runs fn in a transaction, as inTx does, on a connection taken
// from the pool for the purpose.
func (db *DB) withTx(ctx context.Context, fn func(q querier) error) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return db.inTx(ctx, conn, fn)
}

// inTx runs fn in a transaction on conn. On SQLite the transaction is
// BEGIN IMMEDIATE whatever the pool's DSN says, so that two processes
// migrating (or appending to the audit log) at once queue for the write
// lock instead of one failing, and so that a transaction that reads and
// then writes holds the lock from its first read.
func (db *DB) inTx(ctx context.Context, conn *sql.Conn, fn func(q querier) error) error {
	if db.dialect == Postgres {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err := fn(conn)
	if err == nil {
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
		// The transaction may still be open: never give this connection
		// back to the pool.
		discardConn(conn)
	}
	return err
}

// lockMigrations takes the PostgreSQL session advisory lock that
// serialises migrations of the current schema, on conn, and returns the
// function that releases it.
func lockMigrations(ctx context.Context, conn *sql.Conn) (unlock func(), err error) {
	// The first key says "dataward migrations"; the second, the schema.
	const key = `1685548391, hashtext(coalesce(current_schema(), ''))`
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var released bool
		err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock("+key+")").Scan(&released)
		if err != nil || !released {
			// Closing the session is the other way to release the lock.
			discardConn(conn)
		}
	}, nil
}

// discardConn makes database/sql close conn's connection instead of
// returning it to the pool.
func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}
