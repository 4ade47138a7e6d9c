// Command quickstart shows dataward's field-level encryption end to end, on
// the embedded default: a SQLite file and a development master key in the
// current directory, created on the first run and reused after.
//
// It seals a customer record, stores it in the host's own table, finds it
// again by e-mail through a blind index, opens it, then erases the customer
// by shredding their data key, and shows that the stored record can no
// longer be read.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"strings"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/insecurekeyfile"
	"github.com/dataward/dataward/sqlstore"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

const (
	dbFile        = "dataward-quickstart.db"
	kekFile       = "dataward-quickstart.kek.json"
	indexKeysFile = "dataward-quickstart.index-keys.json"
)

// Customer is the host application's own record. The `pii` tags mark the
// fields that are sealed before they are stored.
type Customer struct {
	ID    dataward.SubjectID
	Name  string `pii:"name,category=user.name"`
	Email string `pii:"email,category=user.contact.email"`
	Phone string `pii:"phone,category=user.contact.phone_number"`
	Plan  string // not personal data: stored as is
}

func main() {
	log.SetFlags(0)
	if err := run(context.Background()); err != nil {
		log.Fatalf("quickstart: %v", err)
	}
}

func run(ctx context.Context) error {
	// 1. The master key. In production this is a KMS key; here, a local file.
	_, statErr := os.Stat(kekFile)
	kek, err := insecurekeyfile.AEAD(kekFile)
	if err != nil {
		return err
	}
	step(1, "master key: %s %s (development only: production uses a KMS)", verb(statErr), kekFile)

	// 2. The database: SQLite in one file, with dataward's tables migrated.
	_, statErr = os.Stat(dbFile)
	db, err := sqlstore.Open(ctx, dbFile, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	step(2, "database: %s %s (SQLite, dataward tables migrated)", verb(statErr), dbFile)

	// The host's own table: sealed columns, plus a blind index to find rows by e-mail.
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS customers (
		id TEXT PRIMARY KEY, name TEXT, email TEXT, email_idx TEXT, phone TEXT, plan TEXT)`); err != nil {
		return err
	}
	if _, err := db.SQL().ExecContext(ctx, `CREATE INDEX IF NOT EXISTS customers_email_idx ON customers (email_idx)`); err != nil {
		return err
	}

	keyring, err := pii.NewKeyring(kek, db.KeyStore(), nil)
	if err != nil {
		return err
	}
	indexKeys, err := loadOrCreateIndexKeys(kek)
	if err != nil {
		return err
	}
	emailIndex, err := pii.NewBlindIndex(indexKeys, "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	if err != nil {
		return err
	}

	// 3. Seal a new customer's personal data and store the row.
	c := Customer{ID: newCustomerID(), Name: "Alice Ndlovu", Email: "alice.ndlovu@example.com", Phone: "+27 82 555 1234", Plan: "pro"}
	emailIdx := emailIndex.Compute(c.Email)
	if err := keyring.SealFields(ctx, c.ID, "customer", &c); err != nil {
		return err
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO customers (id, name, email, email_idx, phone, plan) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Email, emailIdx, c.Phone, c.Plan); err != nil {
		return err
	}
	step(3, "sealed customer %s and stored it; the row holds no clear personal data:", c.ID)
	fmt.Printf("       email     = %s\n       email_idx = %s\n", short(c.Email), emailIdx)

	// 4. Find the row again by e-mail, spelled differently: the blind index
	// normalises the address, and Candidates covers an index key rotation.
	typed := "  Alice.Ndlovu@EXAMPLE.com "
	found, err := findByEmail(ctx, db.SQL(), emailIndex, typed)
	if err != nil {
		return err
	}
	step(4, "looked up %q through the blind index: found customer %s", typed, found.ID)

	// 5. Open it, and show it masked as support staff would see it.
	if err := keyring.OpenFields(ctx, found.ID, "customer", &found); err != nil {
		return err
	}
	step(5, "opened the record: %s, %s, %s (plan %s)", found.Name, found.Email, found.Phone, found.Plan)
	fmt.Printf("       masked for display: %v, %v, %v\n", pii.Text(found.Name), pii.Email(found.Email), pii.Phone(found.Phone))

	// 6. The customer asks to be erased: shred their data key.
	tomb, err := keyring.Shred(ctx, found.ID)
	if err != nil {
		return err
	}
	step(6, "shredded customer %s at %s: their data key is destroyed", tomb.Subject, tomb.Shredded.Format("2006-01-02 15:04:05 MST"))

	// 7. The row is still in the table (and in every back-up), but unreadable.
	again, err := findByEmail(ctx, db.SQL(), emailIndex, typed)
	if err != nil {
		return err
	}
	err = keyring.OpenFields(ctx, again.ID, "customer", &again)
	if !errors.Is(err, pii.ErrShredded) {
		return fmt.Errorf("expected the shredded record to be unreadable, got %v", err)
	}
	step(7, "reading the stored row again fails, as it must:\n       %v", err)
	fmt.Println("\nDone. Run it again to add another customer; delete dataward-quickstart.* to start afresh.")
	return nil
}

func findByEmail(ctx context.Context, db *sql.DB, idx *pii.BlindIndex, email string) (Customer, error) {
	candidates := idx.Candidates(email)
	args := make([]any, len(candidates))
	for i, c := range candidates {
		args[i] = c
	}
	query := `SELECT id, name, email, phone, plan FROM customers WHERE email_idx IN (?` +
		strings.Repeat(", ?", len(candidates)-1) + `) ORDER BY rowid DESC LIMIT 1`
	var c Customer
	err := db.QueryRowContext(ctx, query, args...).Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Plan)
	return c, err
}

// loadOrCreateIndexKeys keeps the blind-index keyset in a file, encrypted
// under the master key.
func loadOrCreateIndexKeys(kek tink.AEAD) (*keyset.Handle, error) {
	f, err := os.Open(indexKeysFile)
	if err == nil {
		defer f.Close()
		return pii.ReadIndexKeyset(f, kek)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	keys, err := pii.NewIndexKeyset()
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile(indexKeysFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pii.WriteIndexKeyset(out, keys, kek); err != nil {
		out.Close()
		return nil, err
	}
	return keys, out.Close()
}

func newCustomerID() dataward.SubjectID {
	return dataward.SubjectID("cust-" + strings.ToLower(rand.Text()[:10]))
}

func step(n int, format string, args ...any) {
	fmt.Printf("%d. %s\n", n, fmt.Sprintf(format, args...))
}

func verb(statErr error) string {
	if statErr == nil {
		return "reused"
	}
	return "created"
}

func short(s string) string {
	if len(s) > 48 {
		return s[:48] + "…"
	}
	return s
}
