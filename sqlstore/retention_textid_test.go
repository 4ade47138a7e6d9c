package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// TestTableTargetTextIDsAnyBytes: on SQLite, a text key may hold any
// string (control characters, DEL, bytes that are not UTF-8); Dispose
// disposes of the rows Candidates listed, whatever their keys.
func TestTableTargetTextIDsAnyBytes(t *testing.T) {
	ctx := context.Background()
	db := open(t, backends[0].dsn(t))
	_, err := db.SQL().Exec(`CREATE TABLE tk (id TEXT PRIMARY KEY, created INTEGER NOT NULL)`)
	require.NoError(t, err)
	at := retentionNow.AddDate(-1, 0, 0).UnixMicro()
	ids := []string{"plain", "tab\there", "ctl\x01", "del\x7f", "bell\a", "bad\xff", "tag\U000E0001"}
	for _, id := range ids {
		_, err = db.SQL().Exec(`INSERT INTO tk VALUES (?, ?)`, id, at)
		require.NoError(t, err)
	}
	tt, err := db.TableTarget(ctx, sqlstore.Table{Table: "tk", ID: "id", Created: "created"})
	require.NoError(t, err)
	q := retention.Query{Dataset: "tk", Since: retention.SinceCreated, Cutoff: retentionNow, Limit: 100}
	cands, err := tt.Candidates(ctx, q)
	require.NoError(t, err)
	require.Len(t, cands, len(ids))
	done, err := tt.Dispose(ctx, retention.Batch{Dataset: "tk", Action: retention.Delete, Query: q, Records: cands, Now: retentionNow})
	require.NoError(t, err)
	assert.Len(t, done, len(ids))
	assert.Equal(t, 0, countTable(t, db, "tk"))
}

func countTable(t *testing.T, db *sqlstore.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}
