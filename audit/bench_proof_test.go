package audit_test

import (
	"crypto/rand"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward/audit"
)

// A log of a million events, made once and shared by the benchmarks that
// need one.
var (
	bigLogOnce sync.Once
	bigLog     struct {
		store     *audit.MemStore
		log       *audit.Logger
		publicKey string
		cp        audit.Checkpoint
		err       error
	}
)

const bigLogSize = 1_000_000

func millionEventLog(b *testing.B) (*audit.MemStore, *audit.Logger, string, audit.Checkpoint) {
	bigLogOnce.Do(func() {
		skey, vkey, err := note.GenerateKey(rand.Reader, "bench.example.com")
		if err != nil {
			bigLog.err = err
			return
		}
		signer, _ := note.NewSigner(skey)
		store := audit.NewMemStore()
		l, err := audit.New(store, &audit.Options{
			Signer: signer, HashKey: make([]byte, 32), CheckpointEvery: 100_000,
			Policies: map[string]audit.Policy{"": audit.Buffered}, BufferSize: 100_000, MaxBatch: 4096,
		})
		if err != nil {
			bigLog.err = err
			return
		}
		e := benchEvent()
		for n := int64(0); n < bigLogSize; {
			if err := l.Record(ctx, e); err != nil {
				bigLog.err = err
				return
			}
			if n, err = store.Size(ctx); err != nil {
				bigLog.err = err
				return
			}
		}
		// Buffered events still queued would otherwise be stored after
		// the checkpoint, under the benchmarks' feet.
		if err := l.Close(ctx); err != nil {
			bigLog.err = err
			return
		}
		bigLog.store, bigLog.log, bigLog.publicKey = store, l, vkey
		bigLog.cp, bigLog.err = l.Checkpoint(ctx)
	})
	if bigLog.err != nil {
		b.Fatal(bigLog.err)
	}
	return bigLog.store, bigLog.log, bigLog.publicKey, bigLog.cp
}

// BenchmarkProveCheck makes the inclusion proof of an event in a
// million-event log and checks it as a third party checks the rows of a
// report: the signed checkpoint opened once with the public key, then each
// event's encoding hashed and its proof checked.
func BenchmarkProveCheck(b *testing.B) {
	store, l, vkey, cp := millionEventLog(b)
	entries, err := store.ReadEntries(ctx, 0, 1000)
	if err != nil {
		b.Fatal(err)
	}
	_, size, root, err := audit.OpenCheckpoint(cp.Note, vkey)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := entries[i%len(entries)]
		p, err := l.Prove(ctx, e.Index, cp)
		if err != nil {
			b.Fatal(err)
		}
		if err := audit.CheckInclusionIn(size, root, e.Index, e.Data, p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTlogProveCheck is the baseline of BenchmarkProveCheck: raw
// tlog.ProveRecord and tlog.CheckRecord on the same tree and store.
func BenchmarkTlogProveCheck(b *testing.B) {
	store, _, _, cp := millionEventLog(b)
	entries, err := store.ReadEntries(ctx, 0, 1000)
	if err != nil {
		b.Fatal(err)
	}
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) { return store.ReadHashes(ctx, indexes) })
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := entries[i%len(entries)]
		p, err := tlog.ProveRecord(cp.Size, e.Index, r)
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckRecord(p, cp.Size, cp.Root, e.Index, tlog.RecordHash(e.Data)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVerify re-verifies the whole million-event log: every entry
// re-hashed, the tree rebuilt and checked against the stored hashes and
// every checkpoint.
func BenchmarkVerify(b *testing.B) {
	store, _, vkey, cp := millionEventLog(b)
	size, err := store.Size(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := audit.Verify(ctx, store, &audit.VerifyOptions{PublicKey: vkey, Trusted: [][]byte{cp.Note}})
		if err != nil {
			b.Fatal(err)
		}
		if r.Size != size {
			b.Fatalf("verified %d events, want %d", r.Size, size)
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
