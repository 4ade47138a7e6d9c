// Command breach records a personal data breach affecting customers in
// South Africa and the EU, lists what is due to whom by when, renders the
// regulator's report and the customers' notice, delivers the notice by
// e-mail to a local SMTP server and by webhook to a local receiver, and
// prints the proof of delivery. Run it with
//
//	go run ./examples/breach
//
// The SMTP server is a stand-in started on loopback (a real host gives the
// notifier its mail relay); the register and the outbox are kept in a
// SQLite file in a temporary directory.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"iter"
	"log"
	"net/http/httptest"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/internal/smtptest"
	"github.com/dataward/dataward/sqlstore"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// customers is the host's own data: who is affected, and how to reach
// them. A business customer asked for notices by webhook.
var customers = []breach.Recipient{
	{Subject: "cust-1001", Channel: "email", Address: "jane.doe@example.com"},
	{Subject: "cust-1002", Channel: "email", Address: "sipho.n@example.co.za"},
	{Subject: "cust-1001", Channel: "email", Address: "Jane.Doe@example.com"}, // the same person, from the billing store
	{Subject: "cust-1003", Channel: "email", Address: "not-an-address"},       // a bad address: recorded as a failed delivery
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dataward-breach-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "dataward.db"), nil)
	if err != nil {
		return err
	}
	defer db.Close()

	// The clock of the story: the breach was found on Friday 6 March 2026.
	now := time.Date(2026, 3, 6, 9, 30, 0, 0, time.UTC)
	clock := dataward.ClockFunc(func() time.Time { return now })
	reg, err := breach.New(db.BreachStore(), &breach.Options{Clock: clock})
	if err != nil {
		return err
	}

	// 1. Record the incident as soon as it is known; fill it in later.
	inc, err := reg.Record(ctx, breach.Incident{
		AwareAt:        time.Date(2026, 3, 6, 8, 15, 0, 0, time.UTC),
		OccurredFrom:   time.Date(2026, 3, 4, 22, 0, 0, 0, time.UTC),
		OccurredTo:     time.Date(2026, 3, 6, 7, 50, 0, 0, time.UTC),
		FoundBy:        "security operations",
		Nature:         []breach.Nature{breach.Confidentiality, breach.UnlawfulAccess},
		Description:    "A misconfigured export job published a customer list on a public URL.",
		DataCategories: []string{"user.name", "user.contact.email", "user.contact.phone_number"},
		SubjectGroups:  []breach.SubjectGroup{{Category: "customers", Approx: 1800}},
		Jurisdictions:  []breach.Jurisdiction{{Regime: "popia", Subjects: 1200}, {Regime: "gdpr", Subjects: 600}},
	})
	if err != nil {
		return err
	}
	now = now.Add(3 * time.Hour)
	inc, err = reg.Update(ctx, inc.ID, func(inc *breach.Incident) error {
		inc.Status, inc.Risk, inc.AssessedAt = breach.Assessed, breach.HighRisk, now
		inc.Records = 1800
		inc.Consequences = "Phishing e-mails and calls that appear to come from us."
		inc.MeasuresTaken = "The URL was removed and the export job disabled; access logs are under review."
		inc.MeasuresProposed = "Every export job will be reviewed by 20 March."
		inc.SubjectAdvice = "Be wary of messages asking for passwords or payments; we never ask for them."
		inc.UnauthorisedParty = "unknown"
		inc.Contact = breach.Contact{Name: "Information Officer", Email: "privacy@acme.example", Phone: "+27 21 555 0100"}
		inc.Note = "assessed: high risk"
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("incident %s, version %d, %s, risk %s\n\n", inc.ID, inc.Version, inc.Status, inc.Risk)

	// 2. What is due to whom by when.
	obs, err := reg.Obligations(inc)
	if err != nil {
		return err
	}
	fmt.Println("obligations:")
	for _, o := range obs {
		fmt.Println(" ", o)
	}
	fmt.Printf("due within 24 h: %d, overdue: %d\n\n", len(breach.DueSoon(obs, now, 24*time.Hour)), len(breach.Overdue(obs, now)))

	// 3. The regulator's report and the customers' notice.
	report, err := breach.BuildNotice(inc, "gdpr", breach.Authority, &breach.NoticeOptions{At: now, Organisation: "Acme CRM"})
	if err != nil {
		return err
	}
	fmt.Println("--- report to the supervisory authority (text) ---")
	fmt.Print(report.Text)
	notice, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: now, Organisation: "Acme CRM", Lang: "af"})
	if err != nil {
		return err
	}
	fmt.Printf("--- notice to customers (Afrikaans): %q, %d bytes of text, %d of HTML ---\n\n", notice.Subject, len(notice.Text), len(notice.HTML))

	// 4. Deliver: e-mail to a local SMTP server, a webhook to a local receiver.
	mailsrv, err := smtptest.Start()
	if err != nil {
		return err
	}
	defer mailsrv.Close()
	mail, err := breach.NewSMTPNotifier(mailsrv.Addr, "Acme CRM <privacy@acme.example>", &breach.SMTPOptions{
		Auth: smtp.PlainAuth("", mailsrv.User, mailsrv.Password, "127.0.0.1"), TLS: mailsrv.TLS,
	})
	if err != nil {
		return err
	}
	defer mail.Close()
	secret := make([]byte, 32)
	rand.Read(secret)
	received := 0
	receiver := httptest.NewServer(breach.NewWebhookVerifier(secret, 0, nil).Handler(func(_ context.Context, p breach.WebhookPayload) error {
		received++
		return nil
	}))
	defer receiver.Close()
	hook, err := breach.NewWebhookNotifier(secret, nil)
	if err != nil {
		return err
	}
	outbox, err := breach.NewOutbox(db.BreachStore(), map[string]breach.Notifier{"email": mail, "webhook": hook},
		&breach.OutboxOptions{Workers: 4, Rate: 50})
	if err != nil {
		return err
	}
	contacts := append(customers, breach.Recipient{Subject: "biz-7", Channel: "webhook", Address: receiver.URL + "/breach"})
	res, err := outbox.Enqueue(ctx, notice, "initial", stream(contacts))
	if err != nil {
		return err
	}
	again, err := outbox.Enqueue(ctx, notice, "initial", stream(contacts)) // a retried job enqueues nothing twice
	if err != nil {
		return err
	}
	fmt.Printf("enqueued %d deliveries (%d duplicates removed); enqueued again: %d new\n", res.Enqueued, res.Duplicates, again.Enqueued)
	if err := outbox.Drain(ctx); err != nil {
		return err
	}
	fmt.Printf("the SMTP server received %d messages; the webhook receiver accepted %d\n\n", mailsrv.Count(), received)

	// 5. Proof of delivery, and the notices recorded on the incident.
	proof, err := outbox.Proof(ctx, inc.ID)
	if err != nil {
		return err
	}
	ds, err := outbox.Deliveries(ctx, inc.ID)
	if err != nil {
		return err
	}
	to := map[string]breach.Recipient{}
	for _, d := range ds {
		to[d.ID] = d.To
	}
	fmt.Println("proof of delivery:")
	for _, r := range proof {
		result := "delivered"
		if !r.OK {
			result = "FAILED"
		}
		detail, _, _ := strings.Cut(r.Detail, " queued")
		fmt.Printf("  %-9s %-7s %-40s attempt %d  %-9s %s\n", r.Subject, r.Channel, to[r.Delivery].String(), r.Attempt, result, detail)
	}
	// What the outbox delivered, and the regulators' case numbers (from
	// their portals), become the incident's notifications; the status
	// follows.
	given, err := outbox.Notifications(ctx, inc.ID)
	if err != nil {
		return err
	}
	given = append(given,
		breach.Notification{Regime: "gdpr", Party: breach.Authority, At: now, Reference: "SA-2026-0042"},
		breach.Notification{Regime: "popia", Party: breach.Authority, At: now, Reference: "IR-2026-0107"})
	inc, err = reg.Notify(ctx, inc.ID, given...)
	if err != nil {
		return err
	}
	fmt.Println("\nnotifications recorded:")
	for _, n := range inc.Notifications {
		fmt.Printf("  %-6s %-9s %s\n", n.Regime, n.Party, n.Reference)
	}
	pending, err := reg.Pending(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("incident version %d, %s; obligations still open: %d\n", inc.Version, inc.Status, len(pending))
	for _, o := range pending {
		fmt.Println(" ", o)
	}
	return nil
}

func stream(rs []breach.Recipient) iter.Seq2[breach.Recipient, error] {
	return func(yield func(breach.Recipient, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}
