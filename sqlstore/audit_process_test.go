package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestAuditAppendAcrossProcesses:
// the DSN to append to, and the child's number.
const (
	auditChildDSNEnv = "DATAWARD_SQLSTORE_TEST_AUDIT_CHILD_DSN"
	auditChildIDEnv  = "DATAWARD_SQLSTORE_TEST_AUDIT_CHILD_ID"
)

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
		auditAppendChild(t, dsn, os.Getenv(auditChildIDEnv))
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		type child struct {
			cmd    *exec.Cmd
			stdin  io.WriteCloser
			lines  chan string
			stderr bytes.Buffer
		}
		children := make([]*child, auditProcesses)
		for i := range children {
			c := &child{lines: make(chan string, 100)}
			c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAuditAppendAcrossProcesses$", "-test.timeout=2m")
			c.cmd.Env = append(os.Environ(), auditChildDSNEnv+"="+dsn, auditChildIDEnv+"="+strconv.Itoa(i))
			c.cmd.Stderr = &c.stderr
			var err error
			c.stdin, err = c.cmd.StdinPipe()
			require.NoError(t, err)
			stdout, err := c.cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, c.cmd.Start())
			go func() {
				defer close(c.lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					c.lines <- sc.Text()
				}
			}()
			children[i] = c
		}
		// Wait until all have opened the database, then release them all.
		var output []string
		for i, c := range children {
			ready := false
			for line := range c.lines {
				if ready = line == "READY"; ready {
					break
				}
				output = append(output, fmt.Sprintf("child %d: %s", i, line))
			}
			if !ready {
				err := c.cmd.Wait()
				t.Fatalf("child %d ended before it was ready (%v):\n%s\n%s", i, err, strings.Join(output, "\n"), c.stderr.String())
			}
		}
		for _, c := range children {
			_, err := io.WriteString(c.stdin, "go\n")
			require.NoError(t, err)
			require.NoError(t, c.stdin.Close())
		}
		for i, c := range children {
			for line := range c.lines {
				output = append(output, fmt.Sprintf("child %d: %s", i, line))
			}
			require.NoError(t, c.cmd.Wait(), "child %d:\n%s\n%s", i, strings.Join(output, "\n"), c.stderr.String())
		}
		t.Log(strings.Join(output, "\n"))

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
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')

	conflicts, err := auditWriter(ctx, db.AuditStore(), auditChildName(id), auditProcessBatches, auditProcessSeedBase+uint64(n))
	require.NoError(t, err)
	fmt.Printf("appended %d batches after %d conflicts\n", auditProcessBatches, conflicts)
}
