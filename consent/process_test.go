package consent_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

const childEnv = "DATAWARD_CONSENT_CHILD_DSN"

// TestSecondProcessSeesWithdrawal runs a second OS process with a Ledger
// following the same database, and shows that a withdrawal made here
// reaches its checks (well within a second; the deadline is generous for
// loaded machines).
func TestSecondProcessSeesWithdrawal(t *testing.T) {
	if dsn := os.Getenv(childEnv); dsn != "" {
		childFollower(dsn)
		return
	}
	t.Run("sqlite", func(t *testing.T) {
		secondProcessSeesWithdrawal(t, "sqlite:"+filepath.Join(t.TempDir(), "consent.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		if pgtest.BaseDSN(t) == "" {
			t.Skip(pgtest.SkipMessage)
		}
		secondProcessSeesWithdrawal(t, pgtest.DSN(t))
	})
}

func secondProcessSeesWithdrawal(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	l, err := consent.New(db.ConsentStore(), nil)
	require.NoError(t, err)
	require.NoError(t, l.Register(purposes()...))
	_, err = l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessSeesWithdrawal$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) time.Time {
		t.Helper()
		for {
			select {
			case line, ok := <-lines:
				require.True(t, ok, "the child stopped before saying %q", want)
				if line == want {
					return time.Now()
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("the child did not say %q in time", want)
			}
		}
	}
	expect("allowed")
	start := time.Now()
	_, err = l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	seen := expect("withdrawn")
	t.Logf("the second process saw the withdrawal after %v", seen.Sub(start))
}

// childFollower is the second process: it follows the ledger, says
// "allowed" once it sees u1's consent and "withdrawn" once it sees it gone.
func childFollower(dsn string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		fail(err)
	}
	l, err := consent.New(db.ConsentStore(), &consent.Options{MaxStale: time.Hour})
	if err != nil {
		fail(err)
	}
	if err := l.Register(purposes()...); err != nil {
		fail(err)
	}
	go func() { _ = l.Run(ctx) }()
	for !l.Following() {
		time.Sleep(time.Millisecond)
	}
	for _, want := range []bool{true, false} {
		for {
			d, err := l.Allowed(ctx, "u1", email)
			if err != nil {
				fail(err)
			}
			if d.Allowed == want {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if want {
			fmt.Println("allowed")
		} else {
			fmt.Println("withdrawn")
		}
	}
	os.Exit(0)
}
