package pii_test

import (
	"strings"
	"testing"

	"github.com/dataward/dataward/pii"
)

// With the subject's key cached, sealing and opening allocate only their
// result, whatever the size of the value: scratch space comes from a pool
// or from the result's own spare capacity.
func TestHotPathsAllocateOnlyTheResult(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under -race, where sync.Pool drops buffers at random; runs in go test without -race")
	}
	kr, err := pii.NewKeyring(newKEK(t), pii.NewMemKeyStore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"alice@example.com", strings.Repeat("x", 5000)} {
		text, err := kr.SealString(ctx, "customer-1", "customer.email", v)
		if err != nil {
			t.Fatal(err)
		}
		pt := []byte(v)
		bin, err := kr.Seal(ctx, "customer-1", "customer.email", pt)
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func(){
			"Seal":       func() { _, _ = kr.Seal(ctx, "customer-1", "customer.email", pt) },
			"Open":       func() { _, _ = kr.Open(ctx, "customer-1", "customer.email", bin) },
			"SealString": func() { _, _ = kr.SealString(ctx, "customer-1", "customer.email", v) },
			"OpenString": func() { _, _ = kr.OpenString(ctx, "customer-1", "customer.email", text) },
		} {
			if n := testing.AllocsPerRun(100, f); n > 1 {
				t.Errorf("%s of %d bytes: %v allocations, want 1", name, len(v), n)
			}
		}
	}
}
