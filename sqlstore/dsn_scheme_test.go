package sqlstore

import (
	"context"
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
