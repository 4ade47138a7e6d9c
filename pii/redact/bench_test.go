package redact_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/dataward/dataward/pii/detect"
)

// BenchmarkJSONHandler is the baseline of BenchmarkRedactHandler: the bare
// slog.JSONHandler handling the same record, writing to io.Discard.
func BenchmarkJSONHandler(b *testing.B) {
	benchHandler(b, slog.NewJSONHandler(io.Discard, nil))
}

// BenchmarkRedactHandler handles a record of five attributes through the
// redacting handler over a slog.JSONHandler: "clean" holds no personal
// data, "pii3" an e-mail address, a phone number and an IP address, which
// are tagged.
func BenchmarkRedactHandler(b *testing.B) {
	benchHandler(b, newRedactor(b, nil).Handler(slog.NewJSONHandler(io.Discard, nil)))
}

// benchCases are the sub-benchmarks of the record benchmarks.
var benchCases = []struct {
	name    string
	withPII bool
}{{"clean", false}, {"pii3", true}}

func benchHandler(b *testing.B, h slog.Handler) {
	ctx := context.Background()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			rec := benchRecord(bc.withPII)
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Handle(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchLog is about 1 MB of support log.
var benchLog = strings.Repeat(joinLog(false), 4000)

// BenchmarkScanStream is the baseline of BenchmarkCopy: scanning the same
// log through the scanner's stream, without replacing anything.
func BenchmarkScanStream(b *testing.B) {
	b.SetBytes(int64(len(benchLog)))
	b.ReportAllocs()
	for b.Loop() {
		if err := detect.Default().ScanReader(strings.NewReader(benchLog), func(detect.Finding) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy redacts about 1 MB of support log, a finding every 60
// bytes, to io.Discard.
func BenchmarkCopy(b *testing.B) {
	r := newRedactor(b, nil)
	b.SetBytes(int64(len(benchLog)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Copy(io.Discard, strings.NewReader(benchLog)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanRecord scans the strings of the record of
// BenchmarkRedactHandler (its message and four string values) with the
// scanner alone: the part of BenchmarkRedactHandler that is the
// scanner's, so that the handler's own cost can be told from it.
func BenchmarkScanRecord(b *testing.B) {
	sc := detect.Default()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			rec := benchRecord(bc.withPII)
			texts := []string{rec.Message}
			rec.Attrs(func(a slog.Attr) bool {
				if a.Value.Kind() == slog.KindString {
					texts = append(texts, a.Value.String())
				}
				return true
			})
			dst := make([]detect.Finding, 0, 16)
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range texts {
					dst = sc.AppendScanString(dst[:0], s)
				}
			}
		})
	}
}

// BenchmarkRedactDiscard is BenchmarkRedactHandler over slog.DiscardHandler:
// the redacting handler's own cost, without the JSON handler's.
func BenchmarkRedactDiscard(b *testing.B) {
	benchHandler(b, newRedactor(b, nil).Handler(slog.DiscardHandler))
}
