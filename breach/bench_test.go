package breach_test

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/smtp"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

const benchNotices = 10_000

// BenchmarkDeliverSMTP delivers 10,000 subject notices through the outbox
// (MemStore, 8 workers, with its leases, receipts and de-duplication) to
// the loopback SMTP server over STARTTLS with authentication, and reports
// notices/s. Compare with BenchmarkRawSMTP in the same run.
func BenchmarkDeliverSMTP(b *testing.B) {
	srv := startSMTP(b)
	n := finalNotice(b)
	ctx := context.Background()
	b.ReportAllocs()
	phase := 0
	for b.Loop() {
		notifier := smtpNotifier(b, srv)
		ob, err := breach.NewOutbox(breach.NewMemStore(), map[string]breach.Notifier{"email": notifier}, &breach.OutboxOptions{Workers: 8})
		require.NoError(b, err)
		phase++
		res, err := ob.Enqueue(ctx, n, fmt.Sprint("phase-", phase), uniqueRecipients(benchNotices))
		require.NoError(b, err)
		require.Equal(b, benchNotices, res.Enqueued)
		require.NoError(b, ob.Drain(ctx))
		require.NoError(b, notifier.Close())
	}
	b.StopTimer()
	require.Equal(b, b.N*benchNotices, srv.Count())
	b.ReportMetric(float64(b.N*benchNotices)/b.Elapsed().Seconds(), "notices/s")
}

// BenchmarkRawSMTP sends the same 10,000 messages with a plain sequential
// net/smtp loop on one connection (STARTTLS and authentication once, then
// MAIL, RCPT, DATA per message): the baseline, with no outbox, no
// receipts and no retries. Its body (the same text and HTML parts) is
// built once, so the baseline does not pay for composing messages.
func BenchmarkRawSMTP(b *testing.B) {
	srv := startSMTP(b)
	n := finalNotice(b)
	body := rawBody(n)
	b.ReportAllocs()
	for b.Loop() {
		c, err := smtp.Dial(srv.Addr)
		require.NoError(b, err)
		require.NoError(b, c.StartTLS(srv.TLS))
		require.NoError(b, c.Auth(smtp.PlainAuth("", srv.User, srv.Password, "127.0.0.1")))
		for i := range benchNotices {
			to := fmt.Sprintf("user%d@example.com", i)
			require.NoError(b, c.Mail("breach@acme.example"))
			require.NoError(b, c.Rcpt(to))
			w, err := c.Data()
			require.NoError(b, err)
			_, err = fmt.Fprintf(w, "From: breach@acme.example\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <raw-%d@dataward>\r\n%s",
				to, mime.QEncoding.Encode("utf-8", n.Subject), i, body)
			require.NoError(b, err)
			require.NoError(b, w.Close())
		}
		require.NoError(b, c.Quit())
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchNotices)/b.Elapsed().Seconds(), "notices/s")
}

// uniqueRecipients streams n distinct e-mail recipients.
func uniqueRecipients(n int) func(yield func(breach.Recipient, error) bool) {
	return func(yield func(breach.Recipient, error) bool) {
		for i := range n {
			if !yield(breach.Recipient{Subject: "cust", Channel: "email", Address: fmt.Sprintf("user%d@example.com", i)}, nil) {
				return
			}
		}
	}
}

// rawBody returns the MIME part of a message of n: text and HTML in
// quoted-printable, as the SMTP notifier sends them.
func rawBody(n breach.Notice) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=%s\r\n\r\n", mw.Boundary())
	for _, p := range []struct{ typ, body string }{{"text/plain", n.Text}, {"text/html", n.HTML}} {
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {p.typ + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		qw := quotedprintable.NewWriter(w)
		qw.Write([]byte(p.body))
		qw.Close()
	}
	mw.Close()
	return b.Bytes()
}
