package insecurekeyfile_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/insecurekeyfile"
)

// A development master key: created on the first run, reused after. In
// production the KEK comes from a KMS instead (see pii.NewKeyring).
func ExampleAEAD() {
	dir, err := os.MkdirTemp("", "dataward-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dev-kek.json") // keep it out of version control

	kek, err := insecurekeyfile.AEAD(path)
	if err != nil {
		log.Fatal(err)
	}
	keyring, err := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := keyring.SealString(context.Background(), "customer-42", "customer.email", "zanele@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pii.IsSealedString(sealed))

	// The next run loads the same key.
	again, err := insecurekeyfile.AEAD(path)
	if err != nil {
		log.Fatal(err)
	}
	_, err = again.Encrypt([]byte("check"), nil)
	fmt.Println(err == nil)
	// Output:
	// true
	// true
}

// Rotating adds a new primary key version; values wrapped under the old
// version still open, and pii.Keyring.Rewrap moves data keys to the new one.
func ExampleRotate() {
	dir, err := os.MkdirTemp("", "dataward-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dev-kek.json")

	old, err := insecurekeyfile.AEAD(path)
	if err != nil {
		log.Fatal(err)
	}
	wrapped, err := old.Encrypt([]byte("a data key"), []byte("subject"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := insecurekeyfile.Rotate(path); err != nil {
		log.Fatal(err)
	}
	rotated, err := insecurekeyfile.AEAD(path)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := rotated.Decrypt(wrapped, []byte("subject"))
	fmt.Println(string(plain), err)
	// Output: a data key <nil>
}
