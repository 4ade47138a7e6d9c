package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestCreateRaceAcrossProcesses.
const childDSNEnv = "DATAWARD_SQLSTORE_TEST_CHILD_DSN"

const processSubjects = 200

// TestCreateRaceAcrossProcesses runs the test binary twice at once, as two
// processes of a host would run. Each opens the same fresh database
// (racing the migrations) and then, released at the same moment, creates
// the first key of the same subjects, each with a key of its own. Both
// must report the same key for every subject.
func TestCreateRaceAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(childDSNEnv); dsn != "" {
		createRaceChild(t, dsn)
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
		children := make([]*child, 2)
		for i := range children {
			c := &child{lines: make(chan string, processSubjects+10)}
			c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCreateRaceAcrossProcesses$", "-test.timeout=2m")
			c.cmd.Env = append(os.Environ(), childDSNEnv+"="+dsn)
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
		// Wait until both have opened the database, then release both.
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
		reports := make([]map[string]string, len(children))
		for i, c := range children {
			reports[i] = make(map[string]string)
			for line := range c.lines {
				output = append(output, fmt.Sprintf("child %d: %s", i, line))
				if subject, key, ok := strings.Cut(strings.TrimPrefix(line, "KEY "), " "); ok && strings.HasPrefix(line, "KEY ") {
					reports[i][subject] = key
				}
			}
			require.NoError(t, c.cmd.Wait(), "child %d:\n%s\n%s", i, strings.Join(output, "\n"), c.stderr.String())
		}

		require.Len(t, reports[0], processSubjects)
		require.Equal(t, reports[0], reports[1], "the two processes saw different keys")

		db := open(t, dsn)
		for subject, key := range reports[0] {
			rec, err := db.KeyStore().Get(ctx, dataward.SubjectID(subject))
			require.NoError(t, err)
			require.Equal(t, formatKey(rec), key, subject)
		}
	})
}

func createRaceChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')

	var keyID [4]byte
	_, _ = rand.Read(keyID[:])
	rec := pii.KeyRecord{
		KeyID:   binary.BigEndian.Uint32(keyID[:]) | 1, // never 0
		Wrapped: make([]byte, 32),
		Created: time.Now(),
	}
	_, _ = rand.Read(rec.Wrapped)
	var out strings.Builder
	for i := range processSubjects {
		rec.Subject = dataward.SubjectID(fmt.Sprintf("subject-%03d", i))
		got, err := db.KeyStore().Create(ctx, rec)
		require.NoError(t, err)
		fmt.Fprintf(&out, "KEY %s %s\n", got.Subject, formatKey(got))
	}
	fmt.Print(out.String())
}

func formatKey(r pii.KeyRecord) string {
	return fmt.Sprintf("%d/%x/%d", r.KeyID, r.Wrapped, r.Created.UnixMicro())
}
