package consent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// The check benchmarks share one ledger of benchSubjects subjects, each with
// a choice recorded for each of the five purposes, loaded once.
const benchSubjects = 1_000_000

var benchPurposes = []string{email, "marketing.communications.sms", analytics, ads, notify}

type benchFixture struct {
	ledger   *consent.Ledger
	subjects []dataward.SubjectID
	order    []int32 // a pseudo-random order of subjects, the same for every benchmark

	// The baseline: a map under a RWMutex with the same key construction.
	mu  sync.RWMutex
	m   map[mapKey]consent.Decision
	err error
}

type mapKey struct {
	subject dataward.SubjectID
	purpose string
}

var (
	benchOnce sync.Once
	bench     benchFixture
)

func loadBench(b *testing.B) *benchFixture {
	benchOnce.Do(func() { bench.err = bench.load() })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return &bench
}

func (f *benchFixture) load() error {
	ctx := context.Background()
	store := consent.NewMemStore()
	l, err := consent.New(store, nil)
	if err != nil {
		return err
	}
	sms := consent.NewNotice("sms", 1, "en", "Text me offers.", false)
	ps := append(purposes(), consent.Purpose{Key: benchPurposes[1], Basis: consent.BasisConsent, Mechanism: consent.OptIn,
		Notices: []consent.Notice{sms}})
	if err := l.Register(ps...); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	f.subjects = make([]dataward.SubjectID, benchSubjects)
	f.m = make(map[mapKey]consent.Decision, benchSubjects*len(benchPurposes))
	for i := range f.subjects {
		s := dataward.SubjectID(fmt.Sprintf("customer-%07d", i))
		f.subjects[i] = s
		for j, p := range benchPurposes {
			rec := consent.Record{ID: "x", Subject: s, Purpose: p, Kind: consent.Given, Method: consent.MethodForm, Time: now}
			switch {
			case p == email:
				rec.Notice, rec.Expires = noticeV1.Ref(), now.Add(365*24*time.Hour)
			case p == benchPurposes[1]:
				rec.Notice = sms.Ref()
			case (i+j)%3 == 0:
				rec.Kind = consent.Objected
			}
			seq, err := store.Append(ctx, rec)
			if err != nil {
				return err
			}
			f.m[mapKey{s, p}] = consent.Decision{Allowed: rec.Kind == consent.Given, Reason: consent.ReasonGiven, Seq: seq}
		}
	}
	go func() { _ = l.Run(ctx) }() // follow the store, as a production host does
	for !l.Following() {
		time.Sleep(time.Millisecond)
	}
	if err := l.Warm(ctx); err != nil {
		return err
	}
	f.ledger = l
	f.order = make([]int32, 1<<20)
	x := uint32(2463534242)
	for i := range f.order {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		f.order[i] = int32(x % benchSubjects)
	}
	// Every check must be a cache hit: a miss would read the store.
	for _, s := range f.subjects[:1000] {
		for _, p := range benchPurposes {
			if _, err := l.Allowed(ctx, s, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkAllowed is a cache hit of Ledger.Allowed, in a ledger of a
// million subjects with five purposes each.
func BenchmarkAllowed(b *testing.B) {
	f := loadBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; b.Loop(); i++ {
		d, err := f.ledger.Allowed(ctx, f.subjects[f.order[i&(1<<20-1)]], benchPurposes[i%len(benchPurposes)])
		if err != nil {
			b.Fatal(err)
		}
		if d.Allowed {
			n++
		}
	}
	sink = n
}

// BenchmarkMapBaseline is the baseline of BenchmarkAllowed: a lookup in a
// map keyed by subject and purpose under a sync.RWMutex, the same subjects
// in the same order.
func BenchmarkMapBaseline(b *testing.B) {
	f := loadBench(b)
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; b.Loop(); i++ {
		f.mu.RLock()
		d, ok := f.m[mapKey{f.subjects[f.order[i&(1<<20-1)]], benchPurposes[i%len(benchPurposes)]}]
		f.mu.RUnlock()
		if !ok {
			b.Fatal("missing")
		}
		if d.Allowed {
			n++
		}
	}
	sink = n
}

// BenchmarkAllowedParallel and BenchmarkMapBaselineParallel are the same
// checks from every core at once.
func BenchmarkAllowedParallel(b *testing.B) {
	f := loadBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := f.ledger.Allowed(ctx, f.subjects[f.order[i&(1<<20-1)]], benchPurposes[i%len(benchPurposes)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMapBaselineParallel(b *testing.B) {
	f := loadBench(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			f.mu.RLock()
			_, ok := f.m[mapKey{f.subjects[f.order[i&(1<<20-1)]], benchPurposes[i%len(benchPurposes)]}]
			f.mu.RUnlock()
			if !ok {
				b.Error("missing")
				return
			}
		}
	})
}

var sink int
