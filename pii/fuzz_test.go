package pii_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
)

// FuzzOpen feeds arbitrary bytes and strings to Open and OpenString: they
// must never panic, and must fail with one of the documented errors unless
// the input is a genuine sealed value.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	kr, err := pii.NewKeyring(newKEK(f), pii.NewMemKeyStore(), nil)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	if err != nil {
		f.Fatal(err)
	}
	text, err := kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, text, "alice", "customer.email")
	f.Add([]byte{0xD1, 0x01}, "dw1:", "alice", "customer.email")
	f.Add([]byte("alice@example.com"), "alice@example.com", "", "")
	f.Fuzz(func(t *testing.T, b []byte, s string, subject, field string) {
		known := []error{pii.ErrNotSealed, pii.ErrMalformed, pii.ErrAuthFailed, pii.ErrKeyNotFound, dataward.ErrInvalid}
		check := func(err error) {
			if err == nil {
				return
			}
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Errorf("undocumented error: %v", err)
		}
		_, err := kr.Open(ctx, dataward.SubjectID(subject), field, b)
		check(err)
		_, err = kr.OpenString(ctx, dataward.SubjectID(subject), field, s)
		check(err)
	})
}
