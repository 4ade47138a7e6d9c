package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"iter"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/internal/smtptest"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a delivery worker of
// TestBreachOutboxCrash: the DSN, then the SMTP server's address and the
// file of its certificate, separated by spaces.
const breachWorkerEnv = "DATAWARD_SQLSTORE_TEST_BREACH_WORKER"

const (
	crashRecipients = 400
	crashWorkers    = 4
	crashLease      = 2 * time.Second
)

// TestBreachOutboxCrash: a delivery worker in another process is killed
// (SIGKILL) mid-run; a worker started after it delivers the rest, and
// every recipient is notified exactly once, as counted at the loopback
// SMTP server by Message-ID. A delivery whose attempt the kill cut short
// after the server accepted it, but before its receipt was committed, is
// in doubt: it is sent again under the same Message-ID, and the test
// reports how many were; there can be no more than the worker's
// concurrency.
func TestBreachOutboxCrash(t *testing.T) {
	if env := os.Getenv(breachWorkerEnv); env != "" {
		breachWorker(t, env)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		srv, err := smtptest.Start()
		require.NoError(t, err)
		defer srv.Close()
		certFile := filepath.Join(t.TempDir(), "cert.pem")
		require.NoError(t, os.WriteFile(certFile, srv.CertPEM, 0o600))

		dsn := b.dsn(t)
		db := open(t, dsn)
		ob, notifier := crashOutbox(t, db, srv.Addr, srv.TLS, "restarted", func() time.Time { return time.Now().Add(crashLease + time.Second) })
		n := crashNotice(t)
		res, err := ob.Enqueue(ctx, n, "initial", crashContacts())
		require.NoError(t, err)
		require.Equal(t, crashRecipients, res.Enqueued)

		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBreachOutboxCrash$", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s", breachWorkerEnv, dsn, srv.Addr, certFile))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		for srv.Count() < crashRecipients/4 {
			if ctx.Err() != nil {
				t.Fatalf("the worker delivered %d in time; its stderr:\n%s", srv.Count(), stderr.String())
			}
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		killedAt := srv.Count()
		require.Less(t, killedAt, crashRecipients, "the worker was killed mid-run")

		// The restarted worker's clock runs past the dead one's leases.
		require.NoError(t, ob.Drain(ctx))
		require.NoError(t, notifier.Close())

		byID := srv.ByMessageID()
		raw := srv.ByRecipient()
		require.Len(t, raw, crashRecipients, "every recipient was notified")
		ids := map[string]string{}
		for _, m := range srv.Messages() {
			require.Len(t, m.To, 1)
			if prev, ok := ids[m.To[0]]; ok {
				require.Equal(t, prev, m.MessageID, "a recipient received two different notices")
			}
			ids[m.To[0]] = m.MessageID
		}
		require.Len(t, byID, crashRecipients, "exactly one notice (Message-ID) per recipient")
		resent := 0
		for _, k := range byID {
			resent += k - 1
		}
		t.Logf("%s: killed after %d deliveries; %d in-doubt deliveries were sent again under their Message-ID", b.name, killedAt, resent)
		assert.LessOrEqual(t, resent, crashWorkers, "only deliveries in flight at the kill can be in doubt")

		ds, err := ob.Deliveries(ctx, n.Incident)
		require.NoError(t, err)
		for _, d := range ds {
			require.Equal(t, breach.Delivered, d.State)
		}
		proof, err := ob.Proof(ctx, n.Incident)
		require.NoError(t, err)
		assert.Len(t, proof, crashRecipients, "one receipt per delivery: an attempt cut short leaves none")
	})
}

func crashOutbox(t *testing.T, db *sqlstore.DB, addr string, tlsConf *tls.Config, owner string, now func() time.Time) (*breach.Outbox, *breach.SMTPNotifier) {
	t.Helper()
	opts := &breach.SMTPOptions{Auth: smtp.PlainAuth("", "dataward", "secret", "127.0.0.1"), TLS: tlsConf}
	notifier, err := breach.NewSMTPNotifier(addr, "breach@acme.example", opts)
	require.NoError(t, err)
	ob, err := breach.NewOutbox(db.BreachStore(), map[string]breach.Notifier{"email": notifier},
		&breach.OutboxOptions{Workers: crashWorkers, Lease: crashLease, Owner: owner, Clock: dataward.ClockFunc(now), Rate: 400})
	require.NoError(t, err)
	return ob, notifier
}

func crashNotice(t *testing.T) breach.Notice {
	t.Helper()
	aware := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	inc := breach.Incident{
		ID: "0195f3a0-0000-7000-8000-0000000000c1", AwareAt: aware, Nature: []breach.Nature{breach.UnlawfulAccess},
		Description: "A customer list was exposed.", DataCategories: []string{"user.contact.email"},
		Consequences: "Phishing.", MeasuresTaken: "Access removed.", SubjectAdvice: "Beware of phishing.",
		Contact: breach.Contact{Email: "privacy@acme.example"}, Jurisdictions: []breach.Jurisdiction{{Regime: "popia", Subjects: crashRecipients}},
	}
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware})
	require.NoError(t, err)
	return n
}

func crashContacts() iter.Seq2[breach.Recipient, error] {
	return func(yield func(breach.Recipient, error) bool) {
		for i := range crashRecipients {
			if !yield(breach.Recipient{Subject: dataward.SubjectID(fmt.Sprint("cust-", i)), Channel: "email", Address: fmt.Sprintf("user%d@example.com", i)}, nil) {
				return
			}
		}
	}
}

// breachWorker runs the outbox until it is killed.
func breachWorker(t *testing.T, env string) {
	var dsn, addr, certFile string
	_, err := fmt.Sscan(env, &dsn, &addr, &certFile)
	require.NoError(t, err)
	pemBytes, err := os.ReadFile(certFile)
	require.NoError(t, err)
	conf, err := smtptest.TLSFromPEM(pemBytes)
	require.NoError(t, err)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	ob, _ := crashOutbox(t, db, addr, conf, "doomed", time.Now)
	require.NoError(t, ob.Run(ctx))
}
