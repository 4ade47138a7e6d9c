package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/sqlstore"
)

// Open a SQLite database file, creating it and its tables, and use its key
// store. In production the store is given to a pii.Keyring rather than
// called directly.
func ExampleOpen() {
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

	keys := db.KeyStore()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec, err := keys.Create(ctx, pii.KeyRecord{Subject: "customer-42", KeyID: 1, Wrapped: []byte("wrapped key"), Created: created})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Dialect(), rec.Subject, rec.KeyID, rec.Created)

	tomb, err := keys.Shred(ctx, "customer-42", created.Add(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tomb.IsShredded(), tomb.Wrapped == nil)
	// Output:
	// sqlite customer-42 1 2026-03-01 12:00:00 +0000 UTC
	// true true
}
