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

	"github.com/stretchr/testify/require"
)

// childIDEnv tells a child process started by raceChildren its number.
const childIDEnv = "DATAWARD_SQLSTORE_TEST_CHILD_ID"

// raceChildren runs the test binary n times at once, each child running
// only the test named test with env added to its environment (and its
// number in childIDEnv), as processes of a host would run. Each child
// prints READY once set up and then waits for a line on its standard
// input; raceChildren releases them all at the same moment once every one
// is ready, waits for them to finish, fails t if one fails, and returns
// each child's output after READY, a line per element.
func raceChildren(ctx context.Context, t *testing.T, test string, n int, env ...string) [][]string {
	t.Helper()
	type child struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		lines  chan string
		stderr bytes.Buffer
	}
	children := make([]*child, n)
	for i := range children {
		c := &child{lines: make(chan string, 1024)}
		c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$", "-test.timeout=2m")
		c.cmd.Env = append(append(os.Environ(), env...), childIDEnv+"="+strconv.Itoa(i))
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
	// Wait until all are ready, then release them all.
	var log []string
	for i, c := range children {
		ready := false
		for line := range c.lines {
			if ready = line == "READY"; ready {
				break
			}
			log = append(log, fmt.Sprintf("child %d: %s", i, line))
		}
		if !ready {
			err := c.cmd.Wait()
			t.Fatalf("child %d ended before it was ready (%v):\n%s\n%s", i, err, strings.Join(log, "\n"), c.stderr.String())
		}
	}
	for _, c := range children {
		_, err := io.WriteString(c.stdin, "go\n")
		require.NoError(t, err)
		require.NoError(t, c.stdin.Close())
	}
	out := make([][]string, n)
	for i, c := range children {
		for line := range c.lines {
			out[i] = append(out[i], line)
			log = append(log, fmt.Sprintf("child %d: %s", i, line))
		}
		require.NoError(t, c.cmd.Wait(), "child %d:\n%s\n%s", i, strings.Join(log, "\n"), c.stderr.String())
	}
	return out
}

// waitForRelease is what a child of raceChildren does once set up.
func waitForRelease() {
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}
