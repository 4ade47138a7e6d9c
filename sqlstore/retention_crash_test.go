package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is the sweeper child of
// TestRetentionSweepSurvivesKill: the DSN to sweep.
const sweepCrashChildEnv = "DATAWARD_RETENTION_CRASH_CHILD_DSN"

const (
	crashRows  = 6000 // rows, every one past its period
	crashBatch = 100
)

var crashHashKey = []byte("a 32-byte retention hash key....")

// crashTable creates crash_forms with crashRows rows created a year ago,
// and a trigger that logs every update of a row to crash_log, in the
// transaction of the update: a row anonymised twice is logged twice.
func crashTable(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ts, upd := "INTEGER", `CREATE TRIGGER crash_forms_log AFTER UPDATE ON crash_forms BEGIN INSERT INTO crash_log (id) VALUES (NEW.id); END`
	if db.Dialect() == sqlstore.Postgres {
		ts = "TIMESTAMPTZ"
		upd = `CREATE FUNCTION crash_forms_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO crash_log (id) VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER crash_forms_log AFTER UPDATE ON crash_forms FOR EACH ROW EXECUTE FUNCTION crash_forms_log()`
	}
	for _, stmt := range []string{
		`CREATE TABLE crash_forms (id BIGINT PRIMARY KEY, subject TEXT, created ` + ts + ` NOT NULL, email TEXT, disposed ` + ts + `)`,
		`CREATE TABLE crash_log (id BIGINT NOT NULL)`,
		upd,
	} {
		_, err := db.SQL().Exec(stmt)
		require.NoError(t, err, stmt)
	}
	created := time.Now().AddDate(-1, 0, 0)
	var arg any = created
	if db.Dialect() == sqlstore.SQLite {
		arg = created.UnixMicro()
	}
	tx, err := db.SQL().Begin()
	require.NoError(t, err)
	ins := "INSERT INTO crash_forms (id, subject, created, email) VALUES (?, ?, ?, ?)"
	if db.Dialect() == sqlstore.Postgres {
		ins = "INSERT INTO crash_forms (id, subject, created, email) VALUES ($1, $2, $3, $4)"
	}
	for i := range crashRows {
		_, err := tx.Exec(ins, i, fmt.Sprintf("s%d", i%50), arg, fmt.Sprintf("p%d@example.com", i))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
}

// crashSweeper anonymises the rows of crash_forms 2 months after their
// creation, by the system clock, 100 rows a batch, with receipts in db's
// audit log.
func crashSweeper(t *testing.T, db *sqlstore.DB, owner string, logger *audit.Logger, onBatch func(retention.BatchStats)) *retention.Sweeper {
	t.Helper()
	tt, err := db.TableTarget(context.Background(), sqlstore.Table{Table: "crash_forms", ID: "id", Subject: "subject", Created: "created", Disposed: "disposed"})
	require.NoError(t, err)
	p := retention.Policy{Dataset: "crash_forms", Category: "user.contact", Period: "2 months", Since: retention.SinceCreated,
		Action: retention.Anonymise, Fields: []retention.FieldRule{{Field: "email", Rule: retention.Hash}}, Reason: "privacy notice s4"}
	sw, err := retention.New(db.RetentionStore(), &retention.Schedule{Policies: []retention.Policy{p}}, map[string]retention.Target{"crash_forms": tt}, &retention.Options{
		BatchSize: crashBatch, Owner: owner, LeaseTTL: 2 * time.Second, RateLimit: 1500,
		Audit: logger, HashKey: crashHashKey, OnBatch: onBatch,
	})
	require.NoError(t, err)
	return sw
}

// TestRetentionSweepSurvivesKill runs a sweeper in a child process, which
// anonymises the rows of a table batch by batch (with a receipt per batch
// in the audit log), and kills it with SIGKILL in mid-sweep, holding its
// lease. A sweeper started afterwards takes the lease over once it
// expires and finishes the job: every row is anonymised, none twice (a
// trigger logs every update of a row in the update's transaction), and no
// record is in two receipts.
func TestRetentionSweepSurvivesKill(t *testing.T) {
	if dsn := os.Getenv(sweepCrashChildEnv); dsn != "" {
		sweepCrashChild(t, dsn)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		db := open(t, dsn)
		crashTable(t, db)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRetentionSweepSurvivesKill$", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), sweepCrashChildEnv+"="+dsn)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		batches := 0
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && batches < 10 {
			if strings.HasPrefix(sc.Text(), "BATCH ") {
				batches++
			}
		}
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code runs, the lease stays taken
		_ = cmd.Wait()
		require.Equal(t, 10, batches, "the child stopped early:\n%s", stderr.String())

		var before int
		require.NoError(t, db.SQL().QueryRow("SELECT count(*) FROM crash_log").Scan(&before))
		require.Greater(t, before, 0)
		require.Less(t, before, crashRows, "the child finished before it was killed")

		logger, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
		require.NoError(t, err)
		defer logger.Close(ctx)
		sw := crashSweeper(t, db, "restarted", logger, nil)
		var rep retention.Report
		for {
			rep, err = sw.Sweep(ctx)
			require.NoError(t, err)
			if rep.Policies[0].Skipped == "" {
				break
			}
			// The killed child's lease lasts LeaseTTL after its last
			// renewal.
			time.Sleep(200 * time.Millisecond)
		}
		assert.Equal(t, crashRows-before, len(rep.Policies[0].Disposed), "the restarted sweeper disposes of the rest")

		var updates, distinct, anonymised int
		require.NoError(t, db.SQL().QueryRow("SELECT count(*), count(DISTINCT id) FROM crash_log").Scan(&updates, &distinct))
		require.NoError(t, db.SQL().QueryRow("SELECT count(*) FROM crash_forms WHERE disposed IS NOT NULL AND email LIKE 'h:%'").Scan(&anonymised))
		assert.Equal(t, crashRows, anonymised, "every row is anonymised")
		assert.Equal(t, crashRows, distinct, "every row is updated")
		assert.Equal(t, crashRows, updates, "no row is updated twice")

		// Receipts: no record in two, and at most one batch (the one
		// disposed of when the child was killed) without one.
		seen := map[string]int{}
		for start := int64(0); ; {
			events, next, err := logger.Query(ctx, audit.Query{Action: retention.ReceiptAction, Start: start, Limit: 1000})
			require.NoError(t, err)
			for _, e := range events {
				for _, a := range e.Metadata {
					if strings.HasPrefix(a.Key, "ids.") {
						for id := range strings.FieldsSeq(a.Value) {
							seen[id]++
						}
					}
				}
			}
			if next == 0 {
				break
			}
			start = next
		}
		for id, n := range seen {
			require.Equal(t, 1, n, "record %s is in %d receipts", id, n)
		}
		assert.GreaterOrEqual(t, len(seen), crashRows-crashBatch)
		t.Logf("%d rows anonymised by the killed child, %d by the restarted sweeper; %d of %d in receipts", before, len(rep.Policies[0].Disposed), len(seen), crashRows)
	})
}

func sweepCrashChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	logger, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	out := bufio.NewWriter(os.Stdout)
	n := 0
	sw := crashSweeper(t, db, "child-"+strconv.Itoa(os.Getpid()), logger, func(s retention.BatchStats) {
		n++
		fmt.Fprintln(out, "BATCH", n, s.Disposed)
		out.Flush()
	})
	_, err = sw.Sweep(ctx)
	require.NoError(t, err)
	fmt.Fprintln(os.Stderr, "the sweep finished before the kill")
}
