package retention_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// A schedule declared in code, enforced on an in-memory data set: a dry run
// says what would go and why, then the sweep disposes of it.
func Example() {
	ctx := context.Background()
	forms := retention.NewMemTarget(
		retention.Record{ID: "form-1", Created: time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC)},
		retention.Record{ID: "form-2", Created: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)},
	)
	schedule := &retention.Schedule{Policies: []retention.Policy{{
		Dataset: "web_forms", Category: "user.contact", Period: "2 months",
		Since: retention.SinceCreated, Action: retention.Delete,
		Reason: "privacy notice s4: web-form submissions are kept 2 months",
	}}}
	now := dataward.ClockFunc(func() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) })
	sw, err := retention.New(retention.NewMemStore(), schedule,
		map[string]retention.Target{"web_forms": forms}, &retention.Options{Clock: now})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := sw.Plan(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range plan.Policies {
		fmt.Printf("%s: would %s %v: %s\n", p.Dataset, p.Action, p.Disposed, p.Why)
	}
	rep, err := sw.Sweep(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("disposed of:", rep.Disposed(), "kept:", forms.Len())
	// Output:
	// web_forms: would delete [form-1]: created on or before 2026-01-01T08:00:00Z (2 months)
	// disposed of: 1 kept: 1
}

// Schedules load from YAML (or JSON); every problem is reported at once,
// with its line.
func ExampleParseYAML() {
	_, err := retention.ParseYAML([]byte(`policies:
  - dataset: crm_contacts
    category: user.contact
    period: 2 decades
    since: unsubscribe
    action: delete
    reason: notice s4
`))
	fmt.Println(err)
	// Output:
	// retention: invalid input: policies[0].period (line 4, column 13) has an unknown unit: use days, weeks, months or years; policies[0].since (line 5, column 12) "unsubscribe" is not a trigger: use "created", "last_activity", "event" or "date"
}

// Periods are calendar periods: "2 months" from 31 December ends with
// February.
func ExamplePeriod_End() {
	p, _ := retention.ParsePeriod("2 months")
	fmt.Println(p.End(time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC)))
	fmt.Println(p.End(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)))
	// Output:
	// 2026-03-01 00:00:00 +0000 UTC
	// 2026-03-31 09:00:00 +0000 UTC
}

// A legal hold keeps a subject's records, whatever their policies say,
// until it is released.
func ExampleSweeper_PlaceHold() {
	ctx := context.Background()
	tickets := retention.NewMemTarget(
		retention.Record{ID: "t-1", Subject: "cust-7", Created: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)},
		retention.Record{ID: "t-2", Subject: "cust-8", Created: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)},
	)
	sw, err := retention.New(retention.NewMemStore(), &retention.Schedule{Policies: []retention.Policy{{
		Dataset: "tickets", Category: "user.content", Period: "5 years", Since: retention.SinceCreated,
		Action: retention.Delete, Reason: "support terms s9",
	}}}, map[string]retention.Target{"tickets": tickets}, nil)
	if err != nil {
		log.Fatal(err)
	}
	h, err := sw.PlaceHold(ctx, retention.Hold{Subject: "cust-7", Reason: "litigation 2026-17"})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := sw.Sweep(ctx)
	if err != nil {
		log.Fatal(err)
	}
	p := rep.Policies[0]
	fmt.Println("disposed of:", p.Disposed, "held:", p.Held[0].ID, p.Held[0].Hold == h.ID)
	// Output: disposed of: [t-2] held: t-1 true
}

// Periods since an event count from what the host records, per subject.
func ExampleSweeper_RecordEvent() {
	ctx := context.Background()
	crm := retention.NewMemTarget(retention.Record{ID: "c-1", Subject: "cust-7", Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	now := dataward.ClockFunc(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	sw, err := retention.New(retention.NewMemStore(), &retention.Schedule{Policies: []retention.Policy{{
		Dataset: "crm_contacts", Category: "user.contact", Period: "2 years", Since: retention.SinceEvent,
		Event: "unsubscribe", Action: retention.Delete, Reason: "privacy notice s4",
	}}}, map[string]retention.Target{"crm_contacts": crm}, &retention.Options{Clock: now})
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.RecordEvent(ctx, "unsubscribe", "cust-7", time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)); err != nil {
		log.Fatal(err)
	}
	rep, err := sw.Sweep(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Policies[0].Disposed, rep.Policies[0].Why)
	// Output: [c-1] "unsubscribe" recorded on or before 2024-06-01T00:00:00Z (2 years)
}

// Uploaded log files are kept 3 days, by modification time: a directory
// target deletes the older ones.
func ExampleNewDirTarget() {
	dir, err := os.MkdirTemp("", "uploads")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for name, age := range map[string]time.Duration{"app-1.log": 5 * 24 * time.Hour, "app-2.log": 3*24*time.Hour + time.Minute, "app-3.log": time.Hour, "notes.txt": 9 * 24 * time.Hour} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("GET /index.html 200\n"), 0o600); err != nil {
			log.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			log.Fatal(err)
		}
	}
	logs, err := retention.NewDirTarget(dir, "*.log")
	if err != nil {
		log.Fatal(err)
	}
	schedule := &retention.Schedule{Policies: []retention.Policy{{
		Dataset: "uploaded_logs", Category: "system.operations", Period: "3 days",
		Since: retention.SinceCreated, Action: retention.Delete,
		Reason: "privacy notice s7: uploaded log files are kept 3 days",
	}}}
	sw, err := retention.New(retention.NewMemStore(), schedule, map[string]retention.Target{"uploaded_logs": logs},
		&retention.Options{Clock: dataward.ClockFunc(func() time.Time { return now })})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := sw.Sweep(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted:", rep.Policies[0].Disposed, rep.Policies[0].Why)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range left {
		fmt.Println("kept:", filepath.Base(f))
	}
	// Output:
	// deleted: [app-1.log app-2.log] created on or before 2026-03-07T12:00:00Z (3 days)
	// kept: app-3.log
	// kept: notes.txt
}
