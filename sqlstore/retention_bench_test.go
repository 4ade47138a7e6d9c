package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/sqlstore"
)

// sweepBenchRows is how many rows the sweep benchmarks expire per
// iteration.
const sweepBenchRows = 100_000

// sweepBenchTable (re)creates the table expiring with sweepBenchRows rows,
// every one past its period at retentionNow, and fresh rows ids
// sweepBenchRows.. sweepBenchRows+fresh-1 that are not.
func sweepBenchTable(b *testing.B, db *sqlstore.DB, fresh int) {
	b.Helper()
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := db.SQL().ExecContext(ctx, `DROP TABLE IF EXISTS expiring`)
	must(err)
	_, err = db.SQL().ExecContext(ctx, `CREATE TABLE expiring (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, created INTEGER NOT NULL, email TEXT, body TEXT)`)
	must(err)
	_, err = db.SQL().ExecContext(ctx, `CREATE INDEX expiring_created ON expiring (created)`)
	must(err)
	tx, err := db.SQL().BeginTx(ctx, nil)
	must(err)
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO expiring (id, subject, created, email, body) VALUES (?, ?, ?, ?, ?)`)
	must(err)
	old := retentionNow.AddDate(-1, 0, 0)
	for i := range sweepBenchRows + fresh {
		at := old.Add(time.Duration(i) * time.Second)
		if i >= sweepBenchRows {
			at = retentionNow.Add(-time.Duration(i-sweepBenchRows+1) * time.Second)
		}
		_, err := stmt.ExecContext(ctx, i, fmt.Sprintf("s%d", i%1000), at.UnixMicro(), fmt.Sprintf("p%d@example.com", i), "a web form of about sixty bytes, as a message field would be")
		must(err)
	}
	must(stmt.Close())
	must(tx.Commit())
}

var expiringTable = sqlstore.Table{Table: "expiring", ID: "id", Subject: "subject", Created: "created"}

// sweepBenchSweeper returns a sweeper deleting the rows of expiring
// created 2 months or more before retentionNow, with the default batch
// size, and a pointer to the longest Dispose it has seen.
func sweepBenchSweeper(b *testing.B, db *sqlstore.DB) (*retention.Sweeper, *sweepTimes) {
	b.Helper()
	tt, err := db.TableTarget(context.Background(), expiringTable)
	if err != nil {
		b.Fatal(err)
	}
	times := new(sweepTimes)
	var mu sync.Mutex
	p := retention.Policy{Dataset: "expiring", Category: "user.contact", Period: "2 months", Since: retention.SinceCreated, Action: retention.Delete, Reason: "privacy notice s4"}
	sw, err := retention.New(db.RetentionStore(), &retention.Schedule{Policies: []retention.Policy{p}}, map[string]retention.Target{"expiring": tt}, &retention.Options{
		Clock: dataward.ClockFunc(func() time.Time { return retentionNow }),
		OnBatch: func(s retention.BatchStats) {
			mu.Lock()
			times.longest = max(times.longest, s.Dispose)
			times.list += s.List
			times.dispose += s.Dispose
			mu.Unlock()
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return sw, times
}

// sweepTimes adds up the BatchStats of a sweep.
type sweepTimes struct {
	longest       time.Duration // the longest Dispose
	list, dispose time.Duration // in all
}

func sqliteBenchDB(b *testing.B) *sqlstore.DB {
	return openB(b, "sqlite:"+filepath.Join(b.TempDir(), "dataward.db"))
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkSweepSQLite expires 100,000 rows through the SQL table target:
// one op is a whole sweep (listing, holds, lease, cursor, one DELETE
// transaction per batch of retention.DefaultBatchSize rows). Making the
// table is not timed. maxBatchMs is the longest disposal transaction.
func BenchmarkSweepSQLite(b *testing.B) {
	db := sqliteBenchDB(b)
	ctx := context.Background()
	var longest, list, dispose time.Duration
	for b.Loop() {
		b.StopTimer()
		sweepBenchTable(b, db, 0)
		sw, times := sweepBenchSweeper(b, db)
		b.StartTimer()
		rep, err := sw.Sweep(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n := rep.Disposed(); n != sweepBenchRows {
			b.Fatalf("disposed of %d rows, want %d", n, sweepBenchRows)
		}
		longest = max(longest, times.longest)
		list += times.list
		dispose += times.dispose
	}
	b.ReportMetric(msOf(longest), "maxBatchMs")
	b.ReportMetric(msOf(list)/float64(b.N), "listMs/op")
	b.ReportMetric(msOf(dispose)/float64(b.N), "disposeMs/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/sweepBenchRows, "ns/row")
}

// BenchmarkRawDeleteSQLite is BenchmarkSweepSQLite's baseline: the same
// 100,000 rows deleted by a loop of DELETE ... WHERE id IN (...) with the
// same batch size, each its own transaction, the IDs known beforehand.
func BenchmarkRawDeleteSQLite(b *testing.B) {
	db := sqliteBenchDB(b)
	ctx := context.Background()
	const n = retention.DefaultBatchSize
	query := "DELETE FROM expiring WHERE id IN (?" + strings.Repeat(", ?", n-1) + ")"
	var longest time.Duration
	args := make([]any, n)
	for b.Loop() {
		b.StopTimer()
		sweepBenchTable(b, db, 0)
		stmt, err := db.SQL().PrepareContext(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		deleted := int64(0)
		for start := 0; start < sweepBenchRows; start += n {
			for i := range args {
				args[i] = start + i
			}
			t0 := time.Now()
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				b.Fatal(err)
			}
			longest = max(longest, time.Since(t0))
			k, _ := res.RowsAffected()
			deleted += k
		}
		b.StopTimer()
		stmt.Close()
		b.StartTimer()
		if deleted != sweepBenchRows {
			b.Fatalf("deleted %d rows, want %d", deleted, sweepBenchRows)
		}
	}
	b.ReportMetric(msOf(longest), "maxBatchMs")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/sweepBenchRows, "ns/row")
}

// BenchmarkSweepReaderLatency measures the latency of a host's reader on
// the same table: point reads by random ID of the 20,000 rows that are not
// expiring, one after another from a goroutine of its own, while nothing
// else runs (idle) and while a sweep deletes the table's 100,000 expired
// rows (sweeping). One op is one window of reads: the sweep, or two
// seconds when idle. It reports the reads' p50-ms, p99-ms and max-ms.
func BenchmarkSweepReaderLatency(b *testing.B) {
	for _, sweeping := range []bool{false, true} {
		name := "idle"
		if sweeping {
			name = "sweeping"
		}
		b.Run(name, func(b *testing.B) {
			db := sqliteBenchDB(b)
			ctx := context.Background()
			var lat []time.Duration
			for b.Loop() {
				b.StopTimer()
				sweepBenchTable(b, db, 20_000)
				sw, _ := sweepBenchSweeper(b, db)
				b.StartTimer()
				stop := make(chan struct{})
				var got []time.Duration
				var wg sync.WaitGroup
				wg.Go(func() {
					var id int64
					for {
						select {
						case <-stop:
							return
						default:
						}
						t0 := time.Now()
						err := db.SQL().QueryRowContext(ctx, "SELECT id FROM expiring WHERE id = ?", sweepBenchRows+rand.IntN(20_000)).Scan(&id)
						if err != nil {
							b.Error(err)
							return
						}
						got = append(got, time.Since(t0))
					}
				})
				if sweeping {
					if _, err := sw.Sweep(ctx); err != nil {
						b.Fatal(err)
					}
				} else {
					time.Sleep(2 * time.Second)
				}
				close(stop)
				wg.Wait()
				lat = append(lat, got...)
			}
			slices.Sort(lat)
			q := func(f float64) float64 { return msOf(lat[min(len(lat)-1, int(f*float64(len(lat))))]) }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(msOf(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(float64(len(lat))/float64(b.N), "reads/op")
		})
	}
}
