package detect

import (
	"regexp"
	"sync"
	"testing"

	"github.com/dataward/dataward/pii/detect/internal/corpus"
)

// benchLogs is the input of BenchmarkScan and BenchmarkRegexpScan: 1 MiB
// of synthetic log lines, 10% of them carrying a value of a built-in type.
var benchLogs = sync.OnceValue(func() []byte {
	return corpus.Logs(1, 1<<20, 0.10).Text[:1<<20]
})

// BenchmarkScan scans benchLogs with every built-in type.
func BenchmarkScan(b *testing.B) {
	text := benchLogs()
	s := Default()
	found := s.Scan(text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		found = s.AppendScan(found[:0], text)
	}
	b.ReportMetric(float64(len(found)), "findings")
}

// baselineRegexp is what a developer might write by hand: one regexp for
// e-mail addresses, phone numbers, card numbers and IPv4 addresses, with
// no validation.
var baselineRegexp = regexp.MustCompile(
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}` +
		`|\+?\d{1,3}[ -]?\(?\d{2,3}\)?[ -]?\d{3}[ -]?\d{4}` +
		`|\b(?:\d[ -]?){13,19}\b` +
		`|\b(?:\d{1,3}\.){3}\d{1,3}\b`)

// BenchmarkRegexpScan is the baseline of BenchmarkScan: the same input
// through baselineRegexp.
func BenchmarkRegexpScan(b *testing.B) {
	text := benchLogs()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(baselineRegexp.FindAllIndex(text, -1))
	}
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkScanShort scans short strings one at a time, as a log handler
// scans attribute values: the fixed cost of a call dominates.
func BenchmarkScanShort(b *testing.B) {
	s := Default()
	for _, text := range []string{"order placed", "ord-7731", "cust-4821", "via the web form", "checkout-service",
		"jane.doe@example.com", "+27 82 555 0199", "192.168.10.24"} {
		b.Run(text, func(b *testing.B) {
			var dst [4]Finding
			for b.Loop() {
				s.AppendScanString(dst[:0], text)
			}
		})
	}
}
