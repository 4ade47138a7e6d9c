package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is the child of TestAuditSurvivesKill.
const crashChildEnv = "DATAWARD_AUDIT_CRASH_CHILD_DSN"

// TestAuditSurvivesKill runs a child process that records durable events
// from several goroutines and prints each one's request id once Record has
// returned; it kills the child with SIGKILL mid-stream, and checks that
// every event the child saw acknowledged is in the log, and that the log
// verifies.
func TestAuditSurvivesKill(t *testing.T) {
	if dsn := os.Getenv(crashChildEnv); dsn != "" {
		crashChild(t, dsn)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		open(t, dsn) // migrate before the child starts
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAuditSurvivesKill$", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dsn)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())

		acked := make(map[string]bool)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && len(acked) < 300 {
			if id, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
				acked[id] = true
			}
		}
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code runs
		_ = cmd.Wait()
		require.Len(t, acked, 300, "the child stopped early:\n%s", stderr.String())

		db := open(t, dsn)
		store := db.AuditStore()
		report, err := audit.Verify(ctx, store, nil)
		require.NoError(t, err)
		found := make(map[string]bool)
		for start := int64(0); start < report.Size; start += 1000 {
			entries, err := store.ReadEntries(ctx, start, 1000)
			require.NoError(t, err)
			for _, e := range entries {
				if e.ResourceID != "" {
					found[e.ResourceID] = true
				}
			}
		}
		for id := range acked {
			require.True(t, found[id], "acknowledged event %s is missing after the crash", id)
		}
		t.Logf("%d events acknowledged before the kill, %d in the log", len(acked), report.Size)
	})
}

func crashChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	l, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				// The id goes in a public field, so the parent can find it.
				if err := l.Record(ctx, audit.Event{Action: "test.event", Resource: audit.Resource{Type: "test", ID: id}}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintln(out, "ACK", id)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
