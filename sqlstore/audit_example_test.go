package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/sqlstore"
)

// Keep the audit log in a SQLite file. In production the store is given to
// audit.New, whose Logger encodes, hashes and appends the events; here one
// entry is appended by hand, with the one tree hash of a log's first
// record.
func ExampleDB_AuditStore() {
	dir, err := os.MkdirTemp("", "dataward-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "dataward.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store := db.AuditStore()
	data := []byte("the canonical encoding of an event")
	err = store.Append(ctx, audit.Batch{
		Entries: []audit.Entry{{
			Index: 0, Data: data, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			Action: "customer.view", ActorID: "alice", Outcome: audit.Success,
		}},
		Hashes: []audit.StoredHash{{Index: 0, Hash: tlog.RecordHash(data)}},
	})
	if err != nil {
		log.Fatal(err)
	}

	size, err := store.Size(ctx)
	if err != nil {
		log.Fatal(err)
	}
	views, err := store.Query(ctx, audit.Filter{ActorID: "alice", After: -1, Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(size, len(views), views[0].Action, views[0].Time)
	// Output:
	// 1 1 customer.view 2026-03-01 12:00:00 +0000 UTC
}
