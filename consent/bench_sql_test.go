package consent_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// BenchmarkGrantSQLite records durable grants in SQLite (WAL,
// synchronous=FULL): each Give returns once its record is committed.
func BenchmarkGrantSQLite(b *testing.B) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "consent.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := benchLedger(b, db.ConsentStore())
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := dataward.SubjectID(fmt.Sprintf("customer-%d", n.Add(1)))
			if _, err := l.Give(ctx, give(consent.Choice{Subject: s, Evidence: consent.Evidence{IP: "192.0.2.1", UserAgent: "Mozilla/5.0"}})); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
}

func benchLedger(b *testing.B, store consent.Store) *consent.Ledger {
	l, err := consent.New(store, &consent.Options{HashKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Register(purposes()...); err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkCrossProcessDelay measures how long a withdrawal made through one
// database pool (standing in for another process) takes to reach the checks
// of a Ledger following the store through another pool: from Withdraw
// returning to Allowed saying no. It reports the median and the worst
// (ms/change, max-ms).
func BenchmarkCrossProcessDelay(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		dsn := "sqlite:" + filepath.Join(b.TempDir(), "consent.db")
		benchDelay(b, dsn, dsn)
	})
	b.Run("postgres", func(b *testing.B) {
		if pgtest.BaseDSN(b) == "" {
			b.Skip(pgtest.SkipMessage)
		}
		dsn := pgtest.DSN(b)
		benchDelay(b, dsn, dsn)
	})
}

func benchDelay(b *testing.B, dsnA, dsnB string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbA, err := sqlstore.Open(ctx, dsnA, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dbA.Close()
	dbB, err := sqlstore.Open(ctx, dsnB, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer dbB.Close()
	writer, reader := benchLedger(b, dbA.ConsentStore()), benchLedger(b, dbB.ConsentStore())
	go func() { _ = reader.Run(ctx) }()
	for !reader.Following() {
		time.Sleep(time.Millisecond)
	}
	var delays []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s := dataward.SubjectID(fmt.Sprintf("customer-%d", i))
		if _, err := writer.Give(ctx, give(consent.Choice{Subject: s})); err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			d, err := reader.Allowed(ctx, s, email)
			if err != nil {
				b.Fatal(err)
			}
			if d.Allowed {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("the grant never reached the reader")
			}
			time.Sleep(100 * time.Microsecond)
		}
		if _, err := writer.Withdraw(ctx, consent.Choice{Subject: s, Purpose: email}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			d, err := reader.Allowed(ctx, s, email)
			if err != nil {
				b.Fatal(err)
			}
			if !d.Allowed {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatal("the withdrawal never reached the reader")
			}
			time.Sleep(100 * time.Microsecond)
		}
		delays = append(delays, time.Since(start))
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	b.ReportMetric(float64(delays[len(delays)/2])/float64(time.Millisecond), "ms/change")
	b.ReportMetric(float64(delays[len(delays)-1])/float64(time.Millisecond), "max-ms")
}
