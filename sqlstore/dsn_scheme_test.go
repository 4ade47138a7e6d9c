package sqlstore

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/internal/pgtest"
)

// parseDSN takes postgres:// and postgresql:// in any case, as URL schemes
// are; the name it gives pgx must then be one that pgx reads as that URL,
// not as empty keyword=value settings that connect to the default server
// as the operating system's user.
func TestParseDSNPostgresSchemeCase(t *testing.T) {
	for _, dsn := range []string{
		"POSTGRES://alice:pw@db.example:6543/app?sslmode=disable",
		"PostgreSQL://alice:pw@db.example:6543/app?sslmode=disable",
		"Postgres://alice:pw@db.example:6543/app?sslmode=disable",
	} {
		d, name, err := parseDSN(dsn)
		require.NoError(t, err, dsn)
		require.Equal(t, Postgres, d, dsn)
		cfg, err := pgx.ParseConfig(name)
		require.NoError(t, err, dsn)
		require.Equal(t, "db.example", cfg.Host, dsn)
		require.EqualValues(t, 6543, cfg.Port, dsn)
		require.Equal(t, "alice", cfg.User, dsn)
		require.Equal(t, "app", cfg.Database, dsn)
	}
}

// Open connects to the server an upper-case postgres:// URL names.
func TestOpenPostgresUpperCaseScheme(t *testing.T) {
	dsn := pgtest.DSN(t)
	upper := "POSTGRES" + strings.TrimPrefix(strings.TrimPrefix(dsn, "postgresql"), "postgres")
	db, err := Open(context.Background(), upper, nil)
	require.NoError(t, err)
	defer db.Close()
	var schema string
	require.NoError(t, db.SQL().QueryRow("SELECT current_schema()").Scan(&schema))
	require.Contains(t, dsn, schema)
}

// parseDSN takes file: in any case, as SQLite URIs, which SQLite reads only
// with a lower-case scheme: FILE:/path failed to open, and File::memory:
// made a file of that name in the working directory, shared by a pool of
// many connections, instead of a database in memory.
func TestOpenSQLiteFileSchemeCase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	path := dir + "/a.db"
	db, err := Open(ctx, "FILE:"+path+"?mode=rwc", nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = os.Stat(path)
	require.NoError(t, err, "the database is the file the URI names")

	db, err = Open(ctx, "File::memory:", nil)
	require.NoError(t, err)
	require.Equal(t, 1, db.SQL().Stats().MaxOpenConnections, "an in-memory database keeps its one connection")
	require.NoError(t, db.Close())
	_, err = os.Stat(filepath.Join(dir, "File::memory:"))
	require.ErrorIs(t, err, fs.ErrNotExist, "no file for an in-memory database")
}
