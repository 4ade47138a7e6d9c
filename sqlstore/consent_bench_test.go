package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// benchBackends are the databases the consent benchmarks run on, as
// sub-benchmarks named sqlite and postgres.
var benchBackends = []struct {
	name string
	dsn  func(b *testing.B) string
}{
	{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "dataward.db") }},
	{"postgres", func(b *testing.B) string { return pgtest.DSN(b) }},
}

// openB opens dsn and closes it when b ends.
func openB(b *testing.B, dsn string) *sqlstore.DB {
	b.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// sqliteWatchPoll is how often ConsentStore.Watch polls on SQLite.
const sqliteWatchPoll = 100 * time.Millisecond

// BenchmarkConsentWatchDelay measures how long a change takes to reach a
// watcher in another process: the time from Append returning in one DB to
// Watch signalling in a second DB opened on the same database (a pool of
// its own, as another process would have). It reports the mean as
// ms/change. On SQLite the watcher polls every 100 ms, so expect about
// 50 ms (100 ms at worst); on PostgreSQL, LISTEN/NOTIFY takes a round trip
// or two. The ns/op of sqlite include an untimed random pause.
func BenchmarkConsentWatchDelay(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			writer := openB(b, dsn).ConsentStore()
			watcher := openB(b, dsn).ConsentStore()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			changed := make(chan struct{}, 1)
			done := make(chan error, 1)
			go func() { done <- watcher.Watch(ctx, "bench", changed) }()
			select {
			case <-changed:
			case err := <-done:
				b.Fatal(err)
			}

			var total time.Duration
			n := 0
			for b.Loop() {
				n++
				if be.name == "sqlite" {
					// Append at a random moment of the watcher's poll
					// cycle, as changes of other processes come; appending
					// right after each signal would always wait a whole
					// cycle.
					time.Sleep(rand.N(sqliteWatchPoll))
				}
				seq, err := writer.Append(ctx, consentRec("bench", "alice", n))
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for {
					select {
					case <-changed:
					case <-time.After(10 * time.Second):
						b.Fatalf("no signal within 10 s of append %d", seq)
					}
					elapsed := time.Since(start)
					// A late signal of an earlier append does not count.
					head, err := watcher.Head(ctx, "bench")
					if err != nil {
						b.Fatal(err)
					}
					if head >= seq {
						total += elapsed
						break
					}
				}
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/change")
			cancel()
			<-done
		})
	}
}

// BenchmarkConsentAppend measures durable appends: one appender at a time
// (serial), and GOMAXPROCS appenders at once to one tenant (parallel),
// which queue on the tenant's head row. It reports appends/s.
func BenchmarkConsentAppend(b *testing.B) {
	for _, be := range benchBackends {
		for _, mode := range []string{"serial", "parallel"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				s := openB(b, be.dsn(b)).ConsentStore()
				ctx := context.Background()
				var n atomic.Int64
				b.ReportAllocs()
				start := time.Now()
				if mode == "serial" {
					for b.Loop() {
						if _, err := s.Append(ctx, consentRec("bench", fmt.Sprint("subject-", n.Add(1)%100), 1)); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := s.Append(ctx, consentRec("bench", fmt.Sprint("subject-", n.Add(1)%100), 1)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
			})
		}
	}
}
