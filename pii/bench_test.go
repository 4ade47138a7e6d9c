package pii_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// The baselines use Tink as a developer would by hand: an AES256-GCM keyset
// and the AEAD primitive made from it, on the same 64-byte value with 16
// bytes of associated data.

var (
	value64 = bytes.Repeat([]byte("v"), 64)
	ad16    = []byte("customer.email.1")
)

func newKEK(tb testing.TB) tink.AEAD {
	tb.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		tb.Fatal(err)
	}
	a, err := aead.New(h)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func BenchmarkTinkAEADEncrypt64(b *testing.B) {
	a := newKEK(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Encrypt(value64, ad16); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTinkAEADDecrypt64(b *testing.B) {
	a := newKEK(b)
	ct, err := a.Encrypt(value64, ad16)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Decrypt(ct, ad16); err != nil {
			b.Fatal(err)
		}
	}
}

func benchKeyring(b *testing.B, opts *pii.Options) (*pii.Keyring, *pii.MemKeyStore) {
	store := pii.NewMemKeyStore()
	kr, err := pii.NewKeyring(newKEK(b), store, opts)
	if err != nil {
		b.Fatal(err)
	}
	return kr, store
}

// BenchmarkSeal64 seals a 64-byte value for a subject whose key is cached.
func BenchmarkSeal64(b *testing.B) {
	ctx := context.Background()
	kr, _ := benchKeyring(b, nil)
	if _, err := kr.Seal(ctx, "customer-000042", "customer.email", value64); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(ctx, "customer-000042", "customer.email", value64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen64 opens a 64-byte value for a subject whose key is cached.
func BenchmarkOpen64(b *testing.B) {
	ctx := context.Background()
	kr, _ := benchKeyring(b, nil)
	sealed, err := kr.Seal(ctx, "customer-000042", "customer.email", value64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(ctx, "customer-000042", "customer.email", sealed); err != nil {
			b.Fatal(err)
		}
	}
}

type struct10 struct {
	F0 string `pii:"f0"`
	F1 string `pii:"f1"`
	F2 string `pii:"f2"`
	F3 string `pii:"f3"`
	F4 string `pii:"f4"`
	F5 string `pii:"f5"`
	F6 string `pii:"f6"`
	F7 string `pii:"f7"`
	F8 string `pii:"f8"`
	F9 string `pii:"f9"`
}

// BenchmarkSealStruct10 seals a struct with ten tagged 64-byte string fields
// in place (text form). Compare with ten BenchmarkTinkAEADEncrypt64.
func BenchmarkSealStruct10(b *testing.B) {
	ctx := context.Background()
	kr, _ := benchKeyring(b, nil)
	v := string(value64)
	clearStruct := struct10{v, v, v, v, v, v, v, v, v, v}
	if err := kr.SealFields(ctx, "customer-000042", "customer", &struct10{F0: v}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := clearStruct
		if err := kr.SealFields(ctx, "customer-000042", "customer", &s); err != nil {
			b.Fatal(err)
		}
	}
}

const coldSubjects = 4096

func coldSubject(i int) dataward.SubjectID {
	return dataward.SubjectID(fmt.Sprintf("customer-%06d", i%coldSubjects))
}

// BenchmarkOpenColdSubject is the first read of a subject: fetch its wrapped
// key from the in-memory store, unwrap it with the KEK, then open a 64-byte
// field. The key cache is disabled so that every iteration is cold.
func BenchmarkOpenColdSubject(b *testing.B) {
	ctx := context.Background()
	kr, _ := benchKeyring(b, &pii.Options{CacheSize: -1})
	sealed := make([][]byte, coldSubjects)
	subjects := make([]dataward.SubjectID, coldSubjects)
	for i := range coldSubjects {
		subjects[i] = coldSubject(i)
		var err error
		if sealed[i], err = kr.Seal(ctx, subjects[i], "customer.email", value64); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i % coldSubjects
		if _, err := kr.Open(ctx, subjects[j], "customer.email", sealed[j]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTinkKeysetColdSubject is the naive design: each subject has its
// own Tink keyset, encrypted with the KEK; a cold read parses and decrypts
// the keyset, builds the primitive, and decrypts.
func BenchmarkTinkKeysetColdSubject(b *testing.B) {
	kek := newKEK(b)
	wrapped := make([][]byte, coldSubjects)
	sealed := make([][]byte, coldSubjects)
	for i := range coldSubjects {
		h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek, []byte(coldSubject(i))); err != nil {
			b.Fatal(err)
		}
		wrapped[i] = buf.Bytes()
		a, err := aead.New(h)
		if err != nil {
			b.Fatal(err)
		}
		if sealed[i], err = a.Encrypt(value64, ad16); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i % coldSubjects
		h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped[j])), kek, []byte(coldSubject(j)))
		if err != nil {
			b.Fatal(err)
		}
		a, err := aead.New(h)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Decrypt(sealed[j], ad16); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRewrap rewraps every data key of an in-memory store of 10,000
// subjects under the KEK's primary, on one goroutine, and reports
// subjects/s.
func BenchmarkRewrap(b *testing.B) {
	ctx := context.Background()
	const n = 10_000
	kr, _ := benchKeyring(b, nil)
	for i := range n {
		if _, err := kr.Seal(ctx, dataward.SubjectID(fmt.Sprintf("s%06d", i)), "f", value64); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		res, err := kr.Rewrap(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		total += res.Rewrapped
	}
	if total != n*b.N {
		b.Fatalf("rewrapped %d keys, want %d", total, n*b.N)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "subjects/s")
}
