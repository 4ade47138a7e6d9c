package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// Web-form submissions are kept 2 months, then deleted: a table target
// names the host's table and columns, and the sweeper deletes the expired
// rows in short batches, after a dry run that says what would go and why.
func ExampleDB_TableTarget() {
	dir, err := os.MkdirTemp("", "dataward-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// The host's own table; on SQLite, times are Unix microseconds.
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE web_forms (id INTEGER PRIMARY KEY, email TEXT, created INTEGER NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	for i, created := range []time.Time{
		time.Date(2025, 12, 20, 9, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC),
	} {
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO web_forms VALUES (?, ?, ?)`, i+1, fmt.Sprintf("p%d@example.com", i+1), created.UnixMicro()); err != nil {
			log.Fatal(err)
		}
	}

	forms, err := db.TableTarget(ctx, sqlstore.Table{Table: "web_forms", ID: "id", Created: "created"})
	if err != nil {
		log.Fatal(err)
	}
	schedule := &retention.Schedule{Policies: []retention.Policy{{
		Dataset: "web_forms", Category: "user.contact", Period: "2 months",
		Since: retention.SinceCreated, Action: retention.Delete,
		Reason: "privacy notice s4: web-form submissions are kept 2 months",
	}}}
	now := dataward.ClockFunc(func() time.Time { return time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC) })
	sw, err := retention.New(db.RetentionStore(), schedule, map[string]retention.Target{"web_forms": forms}, &retention.Options{Clock: now})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := sw.Plan(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("would delete", plan.Policies[0].Disposed, "-", plan.Policies[0].Why)
	rep, err := sw.Sweep(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var left int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM web_forms`).Scan(&left); err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", rep.Policies[0].Disposed, "- rows left:", left)
	// Output:
	// would delete [1] - created on or before 2025-12-28T23:30:00Z (2 months)
	// deleted [1] - rows left: 2
}
