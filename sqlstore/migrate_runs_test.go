package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/pgtest"
)

// TestMigrateAuditRuns: on SQLite, an audit log stored before migration 7
// (0007_audit_runs.sqlite.sql) makes each entry a run of its own, so that
// Query finds every entry by subject, actor and time as before, and Verify
// still passes. On PostgreSQL the migration changes nothing.
func TestMigrateAuditRuns(t *testing.T) {
	dsns := map[Dialect]func(t *testing.T) string{
		SQLite:   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") },
		Postgres: func(t *testing.T) string { return pgtest.DSN(t) },
	}
	for dialect, dsn := range dsns {
		t.Run(dialect.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := Open(ctx, dsn(t), &Options{SkipMigrate: true})
			require.NoError(t, err)
			defer db.Close()
			ms, err := embeddedMigrations()
			require.NoError(t, err)
			require.EqualValues(t, 7, ms[6].version)
			require.NoError(t, db.migrate(ctx, ms[:6]))

			// A log made in memory, its rows written as the schema of
			// migration 2 holds them.
			mem := audit.NewMemStore()
			l, err := audit.New(mem, &audit.Options{HashKey: make([]byte, 32)})
			require.NoError(t, err)
			for i := range 50 {
				require.NoError(t, l.Record(ctx, audit.Event{
					Action:  "customer.view",
					Actor:   audit.Actor{ID: fmt.Sprint("staff-", i%2)},
					Subject: dataward.SubjectID(fmt.Sprint("cust-", i%3)),
				}))
			}
			require.NoError(t, l.Close(ctx))
			entries, err := mem.ReadEntries(ctx, 0, 50)
			require.NoError(t, err)
			d := db.dialect
			var stored int64
			for _, e := range entries {
				var hashes []byte
				for x := tlog.StoredHashIndex(0, e.Index); x < tlog.StoredHashIndex(0, e.Index+1); x++ {
					h, err := mem.ReadHashes(ctx, []int64{x})
					require.NoError(t, err)
					hashes = append(hashes, h[0][:]...)
					stored++
				}
				_, err := db.sql.ExecContext(ctx, d.rebind("INSERT INTO dataward_audit_entries"+
					" (idx, data, time, actor_id, subject, hashes) VALUES (?, ?, ?, ?, ?, ?)"),
					e.Index, e.Data, d.instantArg(e.Time), e.ActorID, e.Subject, hashes)
				require.NoError(t, err)
			}
			_, err = db.sql.ExecContext(ctx, d.rebind("UPDATE dataward_audit_head SET size = ?, hashes = ?"), len(entries), stored)
			require.NoError(t, err)

			require.NoError(t, db.Migrate(ctx))
			if dialect == SQLite { // PostgreSQL keeps its indexes of entries
				var runs int
				require.NoError(t, db.sql.QueryRowContext(ctx, "SELECT count(*) FROM dataward_audit_entries"+
					" WHERE actor_end = idx AND subject_end = idx AND time_end = idx").Scan(&runs))
				require.Equal(t, 50, runs, "each entry a run of its own")
			}

			st := db.AuditStore()
			for _, f := range []audit.Filter{
				{ActorID: "staff-1"},
				{Subject: l.SubjectKey("cust-2")},
				{Subject: l.SubjectKey("cust-0"), ActorID: "staff-0"},
				{From: entries[20].Time},
				{To: entries[40].Time},
			} {
				for _, after := range []int64{-1, 10, 30} {
					f.After, f.Limit = after, 7
					want, err := mem.Query(ctx, f)
					require.NoError(t, err)
					require.NotEmpty(t, want)
					got, err := st.Query(ctx, f)
					require.NoError(t, err)
					require.Equal(t, want, got, "%+v", f)
				}
			}
			report, err := audit.Verify(ctx, st, nil)
			require.NoError(t, err)
			require.EqualValues(t, 50, report.Size)
		})
	}
}

// TestAuditEntriesOfAnEarlierBuild: a process of a build from before
// migration 7, still running beside this one during an upgrade, appends
// without the columns of run ends. Its entries are found by subject,
// actor and time all the same: each becomes a run of its own.
func TestAuditEntriesOfAnEarlierBuild(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "u.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	earlier := newAuditStore(db) // appends as the build before migration 7 did
	earlier.runs = false
	earlier.insertEntries = newMultiInsert(SQLite, "dataward_audit_entries", auditInsertColumns, auditInsertColumnCount, auditEntriesPerInsert)
	defer earlier.close()
	mem := audit.NewMemStore()
	for _, st := range []audit.Store{earlier, db.AuditStore(), earlier} {
		for _, s := range []audit.Store{st, mem} {
			l, err := audit.New(s, &audit.Options{HashKey: make([]byte, 32)})
			require.NoError(t, err)
			for i := range 10 {
				require.NoError(t, l.Record(ctx, audit.Event{
					ID: fmt.Sprint("e-", i), Time: time.Date(2026, 1, 2, 3, 4, 5, i*1000, time.UTC), Action: "customer.view",
					Actor: audit.Actor{ID: "staff-1"}, Subject: dataward.SubjectID(fmt.Sprint("cust-", i%2))}))
			}
			require.NoError(t, l.Close(ctx))
		}
	}
	l, err := audit.New(mem, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	for _, f := range []audit.Filter{
		{ActorID: "staff-1"},
		{Subject: l.SubjectKey("cust-0")},
		{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{To: time.Date(2026, 1, 2, 3, 4, 5, 5000, time.UTC)},
	} {
		f.After, f.Limit = -1, 100
		want, err := mem.Query(ctx, f)
		require.NoError(t, err)
		require.NotEmpty(t, want)
		got, err := db.AuditStore().Query(ctx, f)
		require.NoError(t, err)
		require.Equal(t, want, got, "%+v", f)
	}
}
