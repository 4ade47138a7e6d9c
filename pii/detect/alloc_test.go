package detect_test

import (
	"testing"

	"github.com/dataward/dataward/pii/detect"
)

// AppendScanString reads the string in place and allocates nothing when
// nothing is found, nor when dst has room for what is.
func TestAppendScanStringAllocatesNothing(t *testing.T) {
	s := detect.Default()
	clean := `2026-01-20T03:54:10.644Z INFO [api req=2aa0c13b95dd] GET /api/v2/orders/38506 200 12.4ms v1.2.33 sha256=3b6d9126624276254e46e24386bb76fe`
	withPII := clean + " alice@example.com 082 555 1234 10.0.0.1 AKIAIOSFODNN7EXAMPLE"
	dst := make([]detect.Finding, 0, 8)
	for _, c := range []struct{ name, text string }{{"no PII", clean}, {"PII, dst with room", withPII}} {
		if n := testing.AllocsPerRun(100, func() { dst = s.AppendScanString(dst[:0], c.text) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
	if len(dst) == 0 {
		t.Fatal("found nothing in the text with PII")
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.ScanString(clean) }); n != 0 {
		t.Errorf("ScanString with nothing to find: %v allocations, want 0", n)
	}
	// dst does not escape: an array on the stack stays there.
	if n := testing.AllocsPerRun(100, func() {
		var buf [8]detect.Finding
		if len(s.AppendScanString(buf[:0], withPII)) == 0 {
			t.Fatal("found nothing in the text with PII")
		}
	}); n != 0 {
		t.Errorf("PII, dst on the stack: %v allocations, want 0", n)
	}
}
