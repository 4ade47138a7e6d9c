package pii_test

import (
	"fmt"
	"log"

	"github.com/dataward/dataward/pii"
)

// A host stores a blind index of each customer's e-mail address beside the
// sealed address, and finds the customer by e-mail however it is typed.
func ExampleNewBlindIndex() {
	// In production, load the keyset stored under the master key:
	// keys, err := pii.ReadIndexKeyset(f, kek)
	keys, err := pii.NewIndexKeyset()
	if err != nil {
		log.Fatal(err)
	}
	idx, err := pii.NewBlindIndex(keys, "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	if err != nil {
		log.Fatal(err)
	}

	// Writing the row: the email_idx column gets idx.Compute(email).
	emailIdx := map[string]string{} // email_idx -> customer id, standing in for a table
	emailIdx[idx.Compute("Ann.Lee@Example.com")] = "customer-42"

	// Looking up: WHERE email_idx IN (idx.Candidates(email)...).
	for _, c := range idx.Candidates("  ann.lee@EXAMPLE.COM ") {
		if id, ok := emailIdx[c]; ok {
			fmt.Println("found", id)
		}
	}
	fmt.Println(idx)
	// Output:
	// found customer-42
	// pii.BlindIndex("customer.email", 1 key)
}
