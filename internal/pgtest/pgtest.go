// Package pgtest gives each test its own PostgreSQL schema, so that tests
// of the SQL stores do not see each other's rows and can run in parallel
// against one server.
//
// The server is named by the environment variable DATAWARD_TEST_POSTGRES
// (a postgres:// URL); tests skip when it is unset. The script .ci/run
// starts a throwaway server and sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvVar is the environment variable holding the test server's DSN.
const EnvVar = "DATAWARD_TEST_POSTGRES"

// SkipMessage is why a test skips when [EnvVar] is unset.
const SkipMessage = EnvVar + " is not set: PostgreSQL tests run when it names a server (a postgres:// URL); .ci/run starts one and sets it"

// BaseDSN returns the DSN in [EnvVar], or skips t if it is unset.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := strings.TrimSpace(os.Getenv(EnvVar))
	if dsn == "" {
		t.Skip(SkipMessage)
	}
	return dsn
}

// DSN creates a new, empty schema on the test server and returns a DSN
// whose search_path is that schema, so that everything the test creates
// lands in it. The schema is dropped, with its contents, when the test and
// its subtests finish; close the pools using it in an earlier t.Cleanup
// (registered after DSN returns) or before the test ends. DSN skips t if
// [EnvVar] is unset and fails it if the server cannot be reached.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvVar)
	}

	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "dataward_test_" + hex.EncodeToString(b[:])

	exec(t, base, `CREATE SCHEMA "`+schema+`"`)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA "`+schema+`" CASCADE`) })

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, dsn, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
}
