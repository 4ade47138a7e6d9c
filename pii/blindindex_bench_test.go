package pii_test

import (
	"testing"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"

	"github.com/dataward/dataward/pii"
)

// biValue64 is the 64-byte value both benchmarks hash.
const biValue64 = "ann.lee.customer.newsletter+promotions@mail.example-store.co.za."

// BenchmarkBlindIndex64 measures BlindIndex.Compute of a 64-byte value with
// no normaliser. Compare with BenchmarkTinkMAC64, the same HMAC-SHA256
// through a Tink MAC primitive.
func BenchmarkBlindIndex64(b *testing.B) {
	if len(biValue64) != 64 {
		b.Fatalf("biValue64 is %d bytes, want 64", len(biValue64))
	}
	keys, err := pii.NewIndexKeyset()
	if err != nil {
		b.Fatal(err)
	}
	idx, err := pii.NewBlindIndex(keys, "customer.email", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(biValue64)))
	for b.Loop() {
		_ = idx.Compute(biValue64)
	}
}

// BenchmarkTinkMAC64 is the baseline: Tink's HMAC-SHA256 MAC
// (mac.HMACSHA256Tag256KeyTemplate) computed over the same 64-byte value.
func BenchmarkTinkMAC64(b *testing.B) {
	h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	m, err := mac.New(h)
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(biValue64)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := m.ComputeMAC(data); err != nil {
			b.Fatal(err)
		}
	}
}
