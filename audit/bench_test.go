package audit_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// benchEvent is a typical event: its canonical encoding is about 300
// bytes.
func benchEvent() audit.Event {
	return audit.Event{
		Action:    "customer.update",
		Actor:     audit.Actor{ID: "staff-1042", Kind: dataward.ActorUser, Tenant: "acme", Roles: []string{"support"}, SourceIP: "198.51.100.23", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"},
		Subject:   "cust-000042",
		Resource:  audit.Resource{Type: "customer", ID: "cust-000042"},
		Changes:   []audit.Change{{Field: "email", Before: "a***@example.com", After: "z***@example.org"}},
		RequestID: "req-7f3a9c21d4e8",
		TraceID:   "4bf92f3577b34da6a3ce929d0e0e4736",
		Metadata:  []audit.Attr{{Key: "route", Value: "PUT /customers/{id}/email"}},
	}
}

// BenchmarkSHA256Chain is the baseline of BenchmarkAppend: a hash chain,
// the least a tamper-evident log can do per event: the hash of the previous
// digest and 300 bytes.
func BenchmarkSHA256Chain(b *testing.B) {
	var prev [sha256.Size]byte
	buf := make([]byte, sha256.Size+300)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, prev[:])
		prev = sha256.Sum256(buf)
	}
}

// BenchmarkAppend records events in a MemStore: checking the event, its
// canonical encoding, the Merkle tree hashes, and the append, with every
// field stored as it is (BenchmarkAppendProtected adds the keyed hashes).
func BenchmarkAppend(b *testing.B) {
	benchAppend(b, &audit.Options{Fields: map[audit.Field]audit.Sensitivity{
		audit.FieldActorIP: audit.Public, audit.FieldSubject: audit.Public, audit.FieldChanges: audit.Public,
	}})
}

// BenchmarkAppendProtected is BenchmarkAppend with the default
// sensitivities: the actor's IP address, the subject and the changed
// values are stored as keyed hashes (no Sealer).
func BenchmarkAppendProtected(b *testing.B) {
	benchAppend(b, nil)
}

func benchAppend(b *testing.B, opts *audit.Options) {
	f := newFixture(b, opts)
	e := benchEvent()
	if err := f.log.Record(ctx, e); err != nil {
		b.Fatal(err)
	}
	got, _ := f.store.ReadEntries(ctx, 0, 1)
	b.ReportMetric(float64(len(got[0].Data)), "bytes/event")
	b.ReportAllocs()
	for b.Loop() {
		if err := f.log.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = fmt.Sprint
