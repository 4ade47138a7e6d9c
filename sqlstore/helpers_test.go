package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// A backend makes DSNs of fresh, empty databases of one dialect.
type backend struct {
	name string
	dsn  func(t *testing.T) string
	// available skips t if the backend cannot run here.
	available func(t *testing.T)
}

var backends = []backend{
	{
		name:      "SQLite",
		dsn:       func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "dataward.db") },
		available: func(t *testing.T) {},
	},
	{
		name:      "Postgres",
		dsn:       func(t *testing.T) string { return pgtest.DSN(t) },
		available: func(t *testing.T) { pgtest.BaseDSN(t) },
	},
}

// eachBackend runs f as a parallel subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			b.available(t)
			f(t, b)
		})
	}
}

// open opens dsn with the default options and closes it when t ends.
func open(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func countMigrations(t *testing.T, db *sqlstore.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRow("SELECT count(*) FROM dataward_migrations").Scan(&n))
	return n
}
