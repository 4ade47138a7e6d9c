// Command retention enforces a company's six published retention periods
// with package retention: web-form submissions, CRM contacts, support
// tickets and their e-mails in SQLite tables, uploaded log files and
// back-up archives in directories. It first prints a dry run, what would
// go and why, then sweeps for real and prints the disposal receipts that
// the audit log now holds. Run it with
//
//	go run ./examples/retention
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// schedule is the privacy notice's retention section, as published, in one
// place.
const schedule = `
policies:
  - dataset: web_forms
    category: user.contact
    period: 2 months
    since: created
    action: delete
    reason: "privacy notice s4.1: web-form submissions are kept 2 months, then deleted"
  - dataset: crm_contacts
    category: user.contact
    period: 2 years
    since: event
    event: unsubscribe
    action: anonymise
    fields:
      - {field: email, rule: hash}
      - {field: name, rule: mask}
    reason: "privacy notice s4.2: CRM contacts are kept 2 years after the person unsubscribes"
  - dataset: support_tickets
    category: user.content.private
    period: 5 years
    since: created
    action: delete
    reason: "privacy notice s4.3: support tickets are kept 5 years"
  - dataset: ticket_emails
    category: user.contact.email
    period: 12 months
    since: created
    action: delete
    reason: "privacy notice s4.4: e-mail records of tickets are kept 12 months"
  - dataset: uploaded_logs
    category: system.operations
    period: 3 days
    since: created
    action: delete
    reason: "privacy notice s4.5: uploaded log files are kept 3 days"
  - dataset: backups
    category: system
    period: 30 days
    since: created
    action: delete
    reason: "privacy notice s4.6: back-ups are kept 30 rolling days"
`

// today is the instant the example sweeps at, so that its output is the
// same on every run; a host leaves Options.Clock nil.
var today = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dataward-retention")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	uploads, backups := filepath.Join(dir, "uploads"), filepath.Join(dir, "backups")
	if err := seed(ctx, db, uploads, backups); err != nil {
		return err
	}

	sched, err := retention.ParseYAML([]byte(schedule))
	if err != nil {
		return err
	}
	targets := map[string]retention.Target{}
	for name, t := range map[string]sqlstore.Table{
		"web_forms":       {Table: "web_forms", ID: "id", Created: "created"},
		"crm_contacts":    {Table: "crm_contacts", ID: "id", Subject: "customer", Disposed: "anonymised"},
		"support_tickets": {Table: "support_tickets", ID: "id", Subject: "customer", Created: "opened"},
		"ticket_emails":   {Table: "ticket_emails", ID: "id", Subject: "customer", Created: "sent"},
	} {
		if targets[name], err = db.TableTarget(ctx, t); err != nil {
			return err
		}
	}
	if targets["uploaded_logs"], err = retention.NewDirTarget(uploads, "*.log"); err != nil {
		return err
	}
	if targets["backups"], err = retention.NewDirTarget(backups, "*.tar.gz"); err != nil {
		return err
	}

	hashKey := []byte("example key: load 32 random bytes from your secrets")
	logger, err := audit.New(db.AuditStore(), &audit.Options{HashKey: hashKey})
	if err != nil {
		return err
	}
	defer logger.Close(ctx)
	sw, err := retention.New(db.RetentionStore(), sched, targets, &retention.Options{
		Audit: logger, HashKey: hashKey,
		Clock: dataward.ClockFunc(func() time.Time { return today }),
	})
	if err != nil {
		return err
	}

	// What the host records as it happens: two unsubscribes, and a
	// litigation hold on one customer's tickets.
	if err := sw.RecordEvent(ctx, "unsubscribe", "cust-1", today.AddDate(-3, 0, 0)); err != nil {
		return err
	}
	if err := sw.RecordEvent(ctx, "unsubscribe", "cust-2", today.AddDate(0, -6, 0)); err != nil {
		return err
	}
	hold, err := sw.PlaceHold(ctx, retention.Hold{Subject: "cust-3", Reason: "litigation 2026-17"})
	if err != nil {
		return err
	}
	fmt.Println("hold placed:", hold)

	plan, err := sw.Plan(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\nDry run at", plan.At.Format(time.RFC3339))
	printReport(plan, "would")

	rep, err := sw.Sweep(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\nSweep at", rep.At.Format(time.RFC3339))
	printReport(rep, "did")
	left, err := remaining(ctx, db, uploads, backups)
	if err != nil {
		return err
	}
	fmt.Println("left:", left)

	events, _, err := logger.Query(ctx, audit.Query{Action: retention.ReceiptAction})
	if err != nil {
		return err
	}
	fmt.Println("\nReceipts in the audit log")
	for _, e := range events {
		md := map[string]string{}
		for _, a := range e.Metadata {
			md[a.Key] = a.Value
		}
		fmt.Printf("  %s %-16s %-9s count=%s ids=%s reason=%q\n", e.Action, md["dataset"], md["action"], md["count"], md["ids.0"], e.Reason)
	}
	again, err := sw.Sweep(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\nA second sweep disposes of", again.Disposed(), "records. Done.")
	return nil
}

func printReport(r retention.Report, verb string) {
	for _, p := range r.Policies {
		fmt.Printf("  %-16s %s %s %d %v: %s\n", p.Dataset, verb, p.Action, len(p.Disposed), p.Disposed, p.Why)
		for _, h := range p.Held {
			fmt.Printf("  %-16s kept %s: held by %s\n", "", h.ID, h.Hold)
		}
	}
}

// seed makes the host's tables and files: records on both sides of each
// period's end.
func seed(ctx context.Context, db *sqlstore.DB, uploads, backups string) error {
	us := func(t time.Time) int64 { return t.UnixMicro() } // SQLite times: Unix microseconds
	stmts := []struct {
		sql  string
		args []any
	}{
		{`CREATE TABLE web_forms (id INTEGER PRIMARY KEY, email TEXT, message TEXT, created INTEGER NOT NULL)`, nil},
		// Form 1 (31 December) expired at the end of February; form 2
		// (1 January, 13:00) expires at 13:00 today.
		{`INSERT INTO web_forms VALUES (1, 'ann@example.com', 'Call me back', ?), (2, 'ben@example.com', 'Pricing?', ?), (3, 'cy@example.com', 'Hello', ?)`,
			[]any{us(time.Date(2025, 12, 31, 10, 0, 0, 0, time.UTC)), us(time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC)), us(today.AddDate(0, 0, -3))}},
		{`CREATE TABLE crm_contacts (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, name TEXT, email TEXT, anonymised INTEGER)`, nil},
		{`INSERT INTO crm_contacts VALUES (1, 'cust-1', 'Thandi Nkosi', 'thandi@example.com', NULL), (2, 'cust-2', 'Ben Smit', 'ben@example.com', NULL), (3, 'cust-4', 'Cy Adams', 'cy@example.com', NULL)`, nil},
		{`CREATE TABLE support_tickets (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, title TEXT, opened INTEGER NOT NULL)`, nil},
		{`INSERT INTO support_tickets VALUES (101, 'cust-1', 'Cannot log in', ?), (102, 'cust-3', 'Refund', ?), (103, 'cust-2', 'Invoice', ?)`,
			[]any{us(today.AddDate(-6, 0, 0)), us(today.AddDate(-5, -1, 0)), us(today.AddDate(-4, 0, 0))}},
		{`CREATE TABLE ticket_emails (id INTEGER PRIMARY KEY, ticket INTEGER, customer TEXT NOT NULL, sent INTEGER NOT NULL)`, nil},
		{`INSERT INTO ticket_emails VALUES (1001, 101, 'cust-1', ?), (1002, 102, 'cust-3', ?), (1003, 103, 'cust-2', ?)`,
			[]any{us(today.AddDate(-1, -1, 0)), us(today.AddDate(-2, 0, 0)), us(today.AddDate(0, -11, 0))}},
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(ctx, s.sql, s.args...); err != nil {
			return err
		}
	}
	files := []struct {
		dir, name string
		age       time.Duration
	}{
		{uploads, "upload-0224.log", 5 * 24 * time.Hour},
		{uploads, "upload-0226.log", 3*24*time.Hour + time.Hour},
		{uploads, "upload-0227.log", 2 * 24 * time.Hour},
		{backups, "db-2026-01-15.tar.gz", 45 * 24 * time.Hour},
		{backups, "db-2026-01-30.tar.gz", 30*24*time.Hour + time.Hour},
		{backups, "db-2026-02-20.tar.gz", 9 * 24 * time.Hour},
	}
	for _, f := range files {
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return err
		}
		path := filepath.Join(f.dir, f.name)
		if err := os.WriteFile(path, []byte("example\n"), 0o600); err != nil {
			return err
		}
		if err := os.Chtimes(path, today.Add(-f.age), today.Add(-f.age)); err != nil {
			return err
		}
	}
	return nil
}

// remaining lists what is left: the rows of each table, and the files.
func remaining(ctx context.Context, db *sqlstore.DB, dirs ...string) (string, error) {
	var parts []string
	for _, table := range []string{"web_forms", "crm_contacts", "support_tickets", "ticket_emails"} {
		var ids []string
		rows, err := db.SQL().QueryContext(ctx, "SELECT id FROM "+table+" ORDER BY id")
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return "", err
			}
			ids = append(ids, id)
		}
		rows.Close()
		parts = append(parts, table+"="+strings.Join(ids, ","))
	}
	for _, d := range dirs {
		names, err := filepath.Glob(filepath.Join(d, "*"))
		if err != nil {
			return "", err
		}
		for i, n := range names {
			names[i] = filepath.Base(n)
		}
		parts = append(parts, filepath.Base(d)+"="+strings.Join(names, ","))
	}
	// What anonymisation left of the contacts.
	var names []string
	rows, err := db.SQL().QueryContext(ctx, "SELECT name || ' <' || email || '>' FROM crm_contacts WHERE anonymised IS NOT NULL ORDER BY id")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		names = append(names, n)
	}
	parts = append(parts, "anonymised contacts="+strings.Join(names, "; "))
	return strings.Join(parts, "\n      "), rows.Err()
}
