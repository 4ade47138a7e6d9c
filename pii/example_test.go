package pii_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// exampleKEK returns a fresh master key. Real programs load theirs from a
// KMS, or during development from a file (package insecurekeyfile).
func exampleKEK() *keyset.Handle {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	return h
}

func ExampleNewKeyring() {
	ctx := context.Background()
	kek, err := aead.New(exampleKEK())
	if err != nil {
		log.Fatal(err)
	}
	keyring, err := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)
	if err != nil {
		log.Fatal(err)
	}

	sealed, err := keyring.SealString(ctx, "customer-42", "customer.email", "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sealed:", pii.IsSealedString(sealed))

	email, err := keyring.OpenString(ctx, "customer-42", "customer.email", sealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opened:", email)

	// The sealed value is bound to its subject and field.
	_, err = keyring.OpenString(ctx, "customer-42", "customer.phone", sealed)
	fmt.Println("as another field:", errors.Is(err, pii.ErrAuthFailed))
	// Output:
	// sealed: true
	// opened: alice@example.com
	// as another field: true
}

func ExampleKeyring_SealFields() {
	type Customer struct {
		ID    int
		Email string `pii:"email,category=user.contact.email"`
		Phone string `pii:"phone,category=user.contact.phone_number"`
	}
	ctx := context.Background()
	kek, _ := aead.New(exampleKEK())
	keyring, _ := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)

	c := Customer{ID: 42, Email: "alice@example.com", Phone: "+27 82 555 1234"}
	if err := keyring.SealFields(ctx, "customer-42", "customer", &c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.ID, pii.IsSealedString(c.Email), pii.IsSealedString(c.Phone))

	if err := keyring.OpenFields(ctx, "customer-42", "customer", &c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.ID, c.Email, c.Phone)
	// Output:
	// 42 true true
	// 42 alice@example.com +27 82 555 1234
}

func ExampleKeyring_Shred() {
	ctx := context.Background()
	kek, _ := aead.New(exampleKEK())
	keyring, _ := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)

	sealed, _ := keyring.SealString(ctx, "customer-42", "customer.email", "alice@example.com")

	// The person asks to be forgotten: destroy their data key.
	if _, err := keyring.Shred(ctx, "customer-42"); err != nil {
		log.Fatal(err)
	}
	// Every copy of their data, wherever it is kept, is now unreadable.
	_, err := keyring.OpenString(ctx, "customer-42", "customer.email", sealed)
	fmt.Println(errors.Is(err, pii.ErrShredded))
	fmt.Println(err)
	// Output:
	// true
	// pii: open "customer.email": subject was shredded: its data key is destroyed and its data erased
}

func ExampleKeyring_Rewrap() {
	ctx := context.Background()
	h := exampleKEK()
	kek, _ := aead.New(h)
	store := pii.NewMemKeyStore()
	keyring, _ := pii.NewKeyring(kek, store, nil)
	sealed, _ := keyring.SealString(ctx, "customer-42", "customer.email", "alice@example.com")

	// Rotate the master key: add a new primary version. The old version
	// stays in the keyset, so nothing breaks meanwhile.
	m := keyset.NewManagerFromHandle(h)
	id, _ := m.Add(aead.AES256GCMKeyTemplate())
	_ = m.SetPrimary(id)
	rotated, _ := m.Handle()
	newKEK, _ := aead.New(rotated)
	keyring, _ = pii.NewKeyring(newKEK, store, nil)

	// Move every data key to the new version; no sealed value is touched.
	res, err := keyring.Rewrap(ctx, &pii.RewrapOptions{
		Checkpoint: func(ctx context.Context, cursor dataward.SubjectID) error {
			return nil // persist cursor here to resume after a crash
		},
	})
	if err != nil {
		log.Fatalf("rewrap stopped after %q: %v", res.Cursor, err)
	}
	fmt.Println("rewrapped:", res.Rewrapped)

	email, _ := keyring.OpenString(ctx, "customer-42", "customer.email", sealed)
	fmt.Println(email)
	// Output:
	// rewrapped: 1
	// alice@example.com
}
