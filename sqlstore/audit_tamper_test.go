package sqlstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/sqlstore"
)

// TestAuditTamperHarness alters a stored audit log the way someone with
// write access to the database would, on SQLite and PostgreSQL, and checks
// that audit.Verify reports each alteration at the right position. The
// trusted checkpoint is held outside the database, as a host would publish
// it.
func TestAuditTamperHarness(t *testing.T) {
	const size = 60
	tests := []struct {
		name  string
		sql   []string // run in order; idx must stay >= 0, so moves go through 1000000+
		kind  audit.DamageKind
		at    int64
		check func(t *testing.T, db *sqlstore.DB) // optional extra tampering in Go
	}{
		{name: "modify a field", kind: audit.Modified, at: 17,
			check: func(t *testing.T, db *sqlstore.DB) { flipLastByte(t, db, 17) }},
		{name: "delete a row", kind: audit.Deleted, at: 23, sql: []string{
			"DELETE FROM dataward_audit_entries WHERE idx = 23",
		}},
		{name: "delete a row and renumber the rest", kind: audit.Deleted, at: 23, sql: []string{
			"DELETE FROM dataward_audit_entries WHERE idx = 23",
			"UPDATE dataward_audit_entries SET idx = idx + 1000000 WHERE idx > 23",
			"UPDATE dataward_audit_entries SET idx = idx - 1000001 WHERE idx > 1000000",
			"UPDATE dataward_audit_head SET size = size - 1",
		}},
		{name: "insert a row", kind: audit.Inserted, at: 30, sql: []string{
			"UPDATE dataward_audit_entries SET idx = idx + 1000000 WHERE idx >= 30",
			"UPDATE dataward_audit_entries SET idx = idx - 999999 WHERE idx >= 1000000",
			"INSERT INTO dataward_audit_entries (idx, data, time, actor_id, subject, fields, hashes)" +
				" SELECT 30, data, time, actor_id, subject, fields, hashes FROM dataward_audit_entries WHERE idx = 5",
			"UPDATE dataward_audit_head SET size = size + 1",
		}},
		{name: "swap two rows", kind: audit.Reordered, at: 11, sql: []string{
			"UPDATE dataward_audit_entries SET idx = 1000000 WHERE idx = 11",
			"UPDATE dataward_audit_entries SET idx = 11 WHERE idx = 40",
			"UPDATE dataward_audit_entries SET idx = 40 WHERE idx = 1000000",
		}},
		{name: "delete the tail rows, not the head", kind: audit.Truncated, at: 50, sql: []string{
			"DELETE FROM dataward_audit_entries WHERE idx >= 50",
		}},
		{name: "truncate the tail", kind: audit.Truncated, at: 50, sql: []string{
			"DELETE FROM dataward_audit_entries WHERE idx >= 50",
			"DELETE FROM dataward_audit_checkpoints",
			"UPDATE dataward_audit_head SET size = 50",
		}},
	}
	eachBackend(t, func(t *testing.T, b backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				db := open(t, b.dsn(t))
				vkey, trusted := fillAuditLog(t, db, size)
				opts := &audit.VerifyOptions{PublicKey: vkey, Trusted: [][]byte{trusted}}
				_, err := audit.Verify(ctx, db.AuditStore(), opts)
				require.NoError(t, err, "the intact log verifies")

				for _, stmt := range tt.sql {
					_, err := db.SQL().ExecContext(ctx, stmt)
					require.NoError(t, err, stmt)
				}
				if tt.check != nil {
					tt.check(t, db)
				}
				_, err = audit.Verify(ctx, db.AuditStore(), opts)
				var de *audit.DamageError
				require.True(t, errors.As(err, &de), "Verify = %v, want a *DamageError", err)
				require.ErrorIs(t, err, audit.ErrDamaged)
				require.Equal(t, tt.kind, de.Kind, "%v", err)
				require.Equal(t, tt.at, de.Index, "%v", err)
			})
		}
	})
}

// fillAuditLog records n events through a Logger and returns the log's
// public key and a checkpoint of the whole log, kept outside the store.
func fillAuditLog(t *testing.T, db *sqlstore.DB, n int) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "tamper.example.com")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	l, err := audit.New(db.AuditStore(), &audit.Options{Signer: signer, HashKey: make([]byte, 32), CheckpointEvery: 25})
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Record(ctx, audit.Event{Action: "customer.update", Subject: "cust-1", RequestID: fmt.Sprint("req-", i)}))
	}
	c, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Close(ctx))
	return vkey, c.Note
}

// flipLastByte changes one byte of an entry's stored encoding.
func flipLastByte(t *testing.T, db *sqlstore.DB, index int64) {
	ctx := context.Background()
	entries, err := db.AuditStore().ReadEntries(ctx, index, 1)
	require.NoError(t, err)
	data := entries[0].Data
	data[len(data)-1] ^= 1
	q := "UPDATE dataward_audit_entries SET data = ? WHERE idx = ?"
	if db.Dialect() == sqlstore.Postgres {
		q = "UPDATE dataward_audit_entries SET data = $1 WHERE idx = $2"
	}
	_, err = db.SQL().ExecContext(ctx, q, data, index)
	require.NoError(t, err)
}
