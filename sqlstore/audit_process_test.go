package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestAuditAppendAcrossProcesses:
// the DSN to append to.
const auditChildDSNEnv = "DATAWARD_SQLSTORE_TEST_AUDIT_CHILD_DSN"

const (
	auditProcesses       = 2
	auditProcessBatches  = 60
	auditProcessSeedBase = 100
)

// TestAuditAppendAcrossProcesses runs the test binary twice at once, as two
// processes of a host would run. Each opens the same fresh database
// (racing the migrations) and then, released at the same moment, appends
// batches of its own entries, retrying after each conflict. The log must
// then hold every entry of both exactly once, at consecutive indexes, with
// the tree hashes of those entries.
func TestAuditAppendAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(auditChildDSNEnv); dsn != "" {
		auditAppendChild(t, dsn, os.Getenv(childIDEnv))
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		out := raceChildren(ctx, t, "TestAuditAppendAcrossProcesses", auditProcesses, auditChildDSNEnv+"="+dsn)
		t.Log(out)

		counts := make(map[string]int)
		for i := range auditProcesses {
			counts[auditChildName(strconv.Itoa(i))] = writtenBy(auditProcessSeedBase+uint64(i), auditProcessBatches)
		}
		checkAuditLog(t, open(t, dsn).AuditStore(), counts)
	})
}

func auditChildName(id string) string { return "process-" + id }

func auditAppendChild(t *testing.T, dsn, id string) {
	ctx := context.Background()
	n, err := strconv.Atoi(id)
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	waitForRelease()

	conflicts, err := auditWriter(ctx, db.AuditStore(), auditChildName(id), auditProcessBatches, auditProcessSeedBase+uint64(n))
	require.NoError(t, err)
	fmt.Printf("appended %d batches after %d conflicts\n", auditProcessBatches, conflicts)
}
