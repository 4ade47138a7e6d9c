package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/sqlstore"
)

// migrationVersions counts the distinct versions in the migrations
// directory.
func migrationVersions(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	require.NoError(t, err)
	versions := make(map[string]bool)
	for _, e := range entries {
		v, _, ok := strings.Cut(e.Name(), "_")
		require.True(t, ok, e.Name())
		versions[v] = true
	}
	require.NotEmpty(t, versions)
	return len(versions)
}

func TestOpenMigratesOnceAndIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		first := open(t, dsn)
		require.Equal(t, migrationVersions(t), countMigrations(t, first))

		second := open(t, dsn) // a second pool, as a restarted process
		require.Equal(t, migrationVersions(t), countMigrations(t, second))
		require.NoError(t, second.Migrate(context.Background()))
		require.Equal(t, migrationVersions(t), countMigrations(t, second))

		// Both pools see the same store.
		ctx := context.Background()
		_, err := first.KeyStore().Create(ctx, pii.KeyRecord{Subject: "s", KeyID: 1, Wrapped: []byte("k")})
		require.NoError(t, err)
		got, err := second.KeyStore().Get(ctx, "s")
		require.NoError(t, err)
		require.Equal(t, uint32(1), got.KeyID)
	})
}

func TestConcurrentOpenOfFreshDatabase(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		const n = 8
		dbs := make([]*sqlstore.DB, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				dbs[i], errs[i] = sqlstore.Open(context.Background(), dsn, nil)
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if dbs[i] != nil {
				t.Cleanup(func() { assert.NoError(t, dbs[i].Close()) })
			}
		}
		require.NoError(t, errors.Join(errs...))

		var rows, distinct int
		require.NoError(t, dbs[0].SQL().QueryRow(
			"SELECT count(*), count(DISTINCT version) FROM dataward_migrations").Scan(&rows, &distinct))
		require.Equal(t, migrationVersions(t), rows, "each migration recorded once")
		require.Equal(t, rows, distinct)
	})
}

func TestSkipMigrate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, err := sqlstore.Open(ctx, b.dsn(t), &sqlstore.Options{SkipMigrate: true})
		require.NoError(t, err)
		defer db.Close()

		_, err = db.KeyStore().Get(ctx, "s")
		require.Error(t, err, "no table yet")
		require.NotErrorIs(t, err, pii.ErrKeyNotFound)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: get key: "), err.Error())

		require.NoError(t, db.Migrate(ctx))
		_, err = db.KeyStore().Get(ctx, "s")
		require.ErrorIs(t, err, pii.ErrKeyNotFound)
	})
}

func TestMigrateRefusesRenumberedMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := open(t, b.dsn(t))
		_, err := db.SQL().Exec("UPDATE dataward_migrations SET name = 'something_else' WHERE version = 1")
		require.NoError(t, err)
		err = db.Migrate(context.Background())
		require.ErrorContains(t, err, "renumbered")
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), err.Error())
	})
}

func TestOpenDBUsesHostPool(t *testing.T) {
	ctx := context.Background()
	t.Run("SQLite", func(t *testing.T) {
		pool, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "host.db")+"?_pragma=busy_timeout(10000)")
		require.NoError(t, err)
		defer pool.Close()
		testOpenDB(t, pool, sqlstore.SQLite)
	})
	t.Run("Postgres", func(t *testing.T) {
		pool, err := sql.Open("pgx", pgtest.DSN(t))
		require.NoError(t, err)
		defer pool.Close()
		testOpenDB(t, pool, sqlstore.Postgres)
	})
	t.Run("BadArguments", func(t *testing.T) {
		_, err := sqlstore.OpenDB(ctx, nil, sqlstore.SQLite, nil)
		require.EqualError(t, err, "sqlstore: OpenDB: the *sql.DB is nil")
		pool, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "host.db"))
		require.NoError(t, err)
		defer pool.Close()
		_, err = sqlstore.OpenDB(ctx, pool, 0, nil)
		require.ErrorContains(t, err, "unknown dialect")
		require.NoError(t, pool.Ping(), "a refused OpenDB leaves the pool alone")
	})
}

func testOpenDB(t *testing.T, pool *sql.DB, dialect sqlstore.Dialect) {
	ctx := context.Background()
	db, err := sqlstore.OpenDB(ctx, pool, dialect, nil)
	require.NoError(t, err)
	require.Same(t, pool, db.SQL())
	require.Equal(t, dialect, db.Dialect())
	_, err = db.KeyStore().Create(ctx, pii.KeyRecord{Subject: "s", KeyID: 1, Wrapped: []byte("k")})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "Close twice")
	require.NoError(t, pool.PingContext(ctx), "Close leaves the host's pool open")
}

func TestOpenSetsSQLitePragmas(t *testing.T) {
	for _, form := range []string{"sqlite:%s", "sqlite://%s", "file:%s?mode=rwc", "%s"} {
		t.Run(form, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.db")
			db := open(t, strings.Replace(form, "%s", path, 1))
			require.Equal(t, sqlstore.SQLite, db.Dialect())
			_, err := os.Stat(path)
			require.NoError(t, err, "the database is the named file")

			want := map[string]string{
				"journal_mode":  "wal",
				"synchronous":   "2", // FULL
				"foreign_keys":  "1",
				"secure_delete": "1",
				"busy_timeout":  "10000",
				"temp_store":    "2", // MEMORY
			}
			// Check on several connections of the pool at once.
			conns := make([]*sql.Conn, 3)
			for i := range conns {
				c, err := db.SQL().Conn(context.Background())
				require.NoError(t, err)
				defer c.Close()
				conns[i] = c
			}
			for _, c := range conns {
				for pragma, value := range want {
					var got string
					require.NoError(t, c.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got))
					require.Equal(t, value, strings.ToLower(got), pragma)
				}
			}
		})
	}
}

func TestOpenKeepsCallersPragma(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db := open(t, path+"?_pragma=busy_timeout(1234)&_sync=NORMAL")
	for pragma, value := range map[string]string{"busy_timeout": "1234", "synchronous": "1", "secure_delete": "1"} {
		var got string
		require.NoError(t, db.SQL().QueryRow("PRAGMA "+pragma).Scan(&got))
		require.Equal(t, value, got, pragma)
	}
}

func TestOpenInMemorySQLite(t *testing.T) {
	db := open(t, "sqlite::memory:")
	ctx := context.Background()
	_, err := db.KeyStore().Create(ctx, pii.KeyRecord{Subject: "s", KeyID: 1, Wrapped: []byte("k")})
	require.NoError(t, err)
	got, err := db.KeyStore().Get(ctx, "s")
	require.NoError(t, err, "every query sees the one in-memory database")
	require.Equal(t, uint32(1), got.KeyID)
}

func TestOpenErrors(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	tests := []struct {
		name, dsn string
		want      string // substring of the error
	}{
		{"Empty", "  ", "sqlstore: empty DSN"},
		{"OtherScheme", "mysql://user:s3cret@db/app", `sqlstore: unsupported DSN scheme "mysql"`},
		{"KeywordValue", "host=db user=app password=s3cret", "sqlstore: DSN looks like PostgreSQL key=value settings"},
		{"SQLiteNoPath", "sqlite:", "sqlstore: SQLite DSN has no file path"},
		{"SQLiteBadParams", "sqlite:x.db?_pragma=%zz", "sqlstore: bad SQLite DSN parameters"},
		{"SQLiteMissingDir", "sqlite:" + missingDir, `sqlstore: open SQLite database "` + missingDir + `": unable to open database file`},
		{"SQLiteBadTxlock", "sqlite:" + filepath.Join(t.TempDir(), "x.db") + "?_txlock=sometimes", `unknown _txlock "sometimes"`},
		{"PostgresBadPort", "postgres://app:s3cret@127.0.0.1:notaport/db", "sqlstore: invalid PostgreSQL DSN"},
		{"PostgresBadParam", "postgresql://app:s3cret@127.0.0.1/db?sslmode=sometimes", "sqlstore: invalid PostgreSQL DSN"},
		{"PostgresUnreachable", "postgres://app:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "sqlstore: connect to PostgreSQL: failed to connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := sqlstore.Open(context.Background(), tt.dsn, nil)
			require.Error(t, err)
			require.Nil(t, db)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "s3cret", "an error must not show the password")
		})
	}
	_, err := os.Stat(filepath.Dir(missingDir))
	require.True(t, os.IsNotExist(err), "Open does not create directories")
}

func TestOpenCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "x.db"), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestDialectString(t *testing.T) {
	require.Equal(t, "sqlite", sqlstore.SQLite.String())
	require.Equal(t, "postgres", sqlstore.Postgres.String())
	require.Equal(t, "Dialect(0)", sqlstore.Dialect(0).String())
}

func TestPostgresSubjectsCompareByBytes(t *testing.T) {
	db := open(t, pgtest.DSN(t))
	var collation sql.NullString
	require.NoError(t, db.SQL().QueryRow(`SELECT collation_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'dataward_pii_keys' AND column_name = 'subject'`).Scan(&collation))
	require.Equal(t, "C", collation.String)
}
