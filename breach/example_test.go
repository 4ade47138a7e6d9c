package breach_test

import (
	"context"
	"fmt"
	"iter"
	"log"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/breach"
)

// An incident affecting customers in the EU and South Africa: recorded,
// assessed, and its obligations listed with their deadlines.
func ExampleRegister() {
	ctx := context.Background()
	now := time.Date(2026, 3, 6, 11, 0, 0, 0, time.UTC)
	reg, err := breach.New(breach.NewMemStore(), &breach.Options{Clock: dataward.ClockFunc(func() time.Time { return now })})
	if err != nil {
		log.Fatal(err)
	}
	inc, err := reg.Record(ctx, breach.Incident{
		AwareAt:        time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC),
		Nature:         []breach.Nature{breach.Confidentiality, breach.UnlawfulAccess},
		Description:    "A misconfigured export job published a customer list.",
		DataCategories: []string{"user.contact.email", "user.name"},
		SubjectGroups:  []breach.SubjectGroup{{Category: "customers", Approx: 1500}},
		Jurisdictions:  []breach.Jurisdiction{{Regime: "gdpr", Subjects: 900}, {Regime: "popia", Subjects: 600}},
	})
	if err != nil {
		log.Fatal(err)
	}
	inc, err = reg.Update(ctx, inc.ID, func(inc *breach.Incident) error {
		inc.Status, inc.Risk, inc.AssessedAt = breach.Assessed, breach.SomeRisk, now
		inc.Note = "risk assessed: names and e-mail addresses, no passwords"
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	obs, err := reg.Obligations(inc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", inc.Version, inc.Status)
	for _, o := range obs {
		fmt.Println(o)
	}
	fmt.Println("overdue at +73h:", len(breach.Overdue(obs, inc.AwareAt.Add(73*time.Hour))))
	// Output:
	// version 2 assessed
	// POPIA authority (the Information Regulator) as soon as possible, POPIA s22(1)(a), s22(2)
	// POPIA subjects (the data subjects) as soon as possible, POPIA s22(1)(b), s22(2)
	// GDPR authority (the competent supervisory authority) due 2026-03-09T10:00:00Z, GDPR Art. 33(1)
	// overdue at +73h: 1
}

// Brazil's LGPD counts 3 working days; a calendar with the holidays makes
// the deadline skip them.
func ExampleCalendar() {
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		log.Fatal(err)
	}
	cal := breach.MustCalendar(sp, "2026-04-03")    // Good Friday
	aware := time.Date(2026, 4, 2, 10, 0, 0, 0, sp) // a Thursday
	fmt.Println(cal.AddWorkingDays(aware, 3).Format(time.RFC3339))
	// Output: 2026-04-08T23:59:59-03:00
}

// Bad input is refused with every bad field named.
func ExampleIncident_Validate() {
	inc := breach.Incident{Nature: []breach.Nature{"leak"}, Jurisdictions: []breach.Jurisdiction{{Regime: "atlantis"}}}
	fmt.Println(inc.Validate())
	// Output: breach: invalid input: AwareAt is required; Nature[0] is not a known nature; DataCategories is required; Jurisdictions[0].Regime is not a known regime
}

// A subject notice under POPIA refuses to be finalised until it says what
// subjects can do, then renders as text (and HTML).
func ExampleBuildNotice() {
	inc := breach.Incident{
		ID:             "0195f3a0-0000-7000-8000-000000000001",
		AwareAt:        time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC),
		Nature:         []breach.Nature{breach.UnlawfulAccess},
		Description:    "A misconfigured export job published a customer list.",
		DataCategories: []string{"user.contact.email", "user.name"},
		Consequences:   "Targeted phishing.",
		MeasuresTaken:  "The export was removed and the job disabled.",
		Contact:        breach.Contact{Name: "Information Officer", Email: "privacy@example.com"},
		Jurisdictions:  []breach.Jurisdiction{{Regime: "popia", Subjects: 600}},
	}
	opts := &breach.NoticeOptions{Organisation: "Acme CRM", At: inc.AwareAt.Add(2 * time.Hour)}
	_, err := breach.BuildNotice(inc, "popia", breach.Subjects, opts)
	fmt.Println(err)

	inc.SubjectAdvice = "Be wary of e-mails asking for your password."
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(n.Text)
	// Output:
	// breach: the popia subjects notice is missing SubjectAdvice (POPIA s22(5)(c))
	// Notice of a personal data breach
	//
	// We are writing to tell you about an incident at Acme CRM that involves information about you.
	//
	// What happened
	// A misconfigured export job published a customer list.
	//
	// What information was involved
	// user.contact.email, user.name
	//
	// Likely consequences
	// Targeted phishing.
	//
	// What we are doing
	// The export was removed and the job disabled.
	//
	// What you can do
	// Be wary of e-mails asking for your password.
	//
	// For more information
	// Information Officer, privacy@example.com
	//
	// We are sorry for this incident.
	// Acme CRM
}

// The outbox delivers a notice once to each recipient (here through the
// log notifier), records a bad address as a failed delivery, and keeps a
// receipt of every attempt.
func ExampleOutbox() {
	ctx := context.Background()
	at := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	clock := dataward.ClockFunc(func() time.Time { return at })
	inc := breach.Incident{
		ID: "0195f3a0-0000-7000-8000-000000000002", AwareAt: at.Add(-2 * time.Hour),
		Nature: []breach.Nature{breach.UnlawfulAccess}, DataCategories: []string{"user.contact.email"},
		Description: "A customer list was exposed.", Consequences: "Phishing.", MeasuresTaken: "Access removed.",
		SubjectAdvice: "Beware of phishing.", Contact: breach.Contact{Email: "privacy@example.com"},
		Jurisdictions: []breach.Jurisdiction{{Regime: "popia", Subjects: 2}},
	}
	notice, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: at})
	if err != nil {
		log.Fatal(err)
	}
	var file strings.Builder // a file, in a real program
	ob, err := breach.NewOutbox(breach.NewMemStore(), map[string]breach.Notifier{"log": breach.NewLogNotifier(&file, clock)},
		&breach.OutboxOptions{Clock: clock, Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	contacts := breach.ContactSourceFunc(func(ctx context.Context, q breach.ContactQuery) iter.Seq2[breach.Recipient, error] {
		return func(yield func(breach.Recipient, error) bool) {
			for _, r := range []breach.Recipient{
				{Subject: "cust-1", Channel: "log", Address: "jane@example.com"},
				{Subject: "cust-1", Channel: "log", Address: "JANE@example.com"}, // the same person in another store
				{Subject: "cust-2", Channel: "sms", Address: "+27 82 000 0000"},  // no notifier for this channel
			} {
				if !yield(r, nil) {
					return
				}
			}
		}
	})
	res, err := ob.Enqueue(ctx, notice, "initial", contacts.Contacts(ctx, breach.ContactQuery{Incident: inc.ID, DataCategories: inc.DataCategories}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", res)
	if err := ob.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	proof, err := ob.Proof(ctx, inc.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range proof {
		fmt.Println(r.Subject, r.Channel, r.OK, r.Detail)
	}
	fmt.Println(strings.Count(file.String(), "\n"), "line(s) written")
	// Output:
	// {Enqueued:2 Duplicates:1}
	// cust-1 log true written 730 bytes
	// cust-2 sms false breach: permanent delivery failure: no notifier for channel "sms"
	// 1 line(s) written
}
