package ascii

import (
	"strings"
	"testing"
)

// printableSlow is the definition Printable must agree with.
func printableSlow(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func TestPrintableEveryByteAtEveryPosition(t *testing.T) {
	for n := 0; n <= 17; n++ {
		for pos := 0; pos < n; pos++ {
			for b := 0; b < 256; b++ {
				buf := []byte(strings.Repeat("a", n))
				buf[pos] = byte(b)
				s := string(buf)
				if got, want := Printable(s), printableSlow(s); got != want {
					t.Fatalf("Printable(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
}

func FuzzPrintable(f *testing.F) {
	f.Add("customer-000042")
	f.Add("é\x7f\x1f ~")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Printable(s), printableSlow(s); got != want {
			t.Fatalf("Printable(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkPrintable(b *testing.B) {
	s := "customer-000042.customer.email"
	for b.Loop() {
		if !Printable(s) {
			b.Fatal("not printable")
		}
	}
}
