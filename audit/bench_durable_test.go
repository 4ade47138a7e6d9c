package audit_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// BenchmarkFileAppendFsync64 is the baseline of BenchmarkAppendSQLite: the
// least a durable log can do, appending 300-byte records to a file and
// calling fdatasync every 64 records.
func BenchmarkFileAppendFsync64(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, 300)
	n := 0
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if n++; n%64 == 0 {
			if err := syscall.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendSQLite records durable events into SQLite (WAL,
// synchronous=FULL) from many goroutines at once: each Record returns once
// its event is committed, and concurrent events share commits (group
// commit). Every event has the same actor and subject, so that each
// index grows at its end.
func BenchmarkAppendSQLite(b *testing.B) {
	benchAppendDurable(b, sqliteDSN(b), oneSubject())
}

// BenchmarkAppendSQLiteManySubjects is BenchmarkAppendSQLite as a busy
// host sees it: each event is about one of 100,000 data subjects, done by
// one of 500 staff, both drawn at random, so that the subject and actor
// indexes take each commit's entries at scattered places. It has no
// target; it shows what to expect when sizing (see BENCHMARKS.md).
func BenchmarkAppendSQLiteManySubjects(b *testing.B) {
	benchAppendDurable(b, sqliteDSN(b), manySubjects())
}

// BenchmarkAppendPostgres is BenchmarkAppendSQLite on PostgreSQL, in a
// fresh schema of the server that DATAWARD_TEST_POSTGRES names (skipped
// without it). It has no target.
func BenchmarkAppendPostgres(b *testing.B) {
	benchAppendDurable(b, pgtest.DSN(b), oneSubject())
}

// BenchmarkAppendPostgresManySubjects is BenchmarkAppendSQLiteManySubjects
// on PostgreSQL. It has no target.
func BenchmarkAppendPostgresManySubjects(b *testing.B) {
	benchAppendDurable(b, pgtest.DSN(b), manySubjects())
}

func sqliteDSN(b *testing.B) string {
	return "sqlite:" + filepath.Join(b.TempDir(), "audit.db")
}

// oneSubject returns benchEvent for every event.
func oneSubject() func(*rand.Rand) audit.Event {
	e := benchEvent()
	return func(*rand.Rand) audit.Event { return e }
}

// manySubjects returns benchEvent about one of 100,000 subjects, done by
// one of 500 actors, both drawn at random.
func manySubjects() func(*rand.Rand) audit.Event {
	subjects := make([]dataward.SubjectID, 100_000)
	for i := range subjects {
		subjects[i] = dataward.SubjectID(fmt.Sprintf("cust-%06d", i))
	}
	actors := make([]string, 500)
	for i := range actors {
		actors[i] = fmt.Sprintf("staff-%04d", i)
	}
	base := benchEvent()
	return func(r *rand.Rand) audit.Event {
		e := base
		e.Actor.ID = actors[r.IntN(len(actors))]
		e.Subject = subjects[r.IntN(len(subjects))]
		e.Resource.ID = string(e.Subject)
		return e
	}
}

// benchAppendDurable records the events that event returns, from 64
// goroutines per processor (128 on two cores), into a fresh database.
func benchAppendDurable(b *testing.B, dsn string, event func(*rand.Rand) audit.Event) {
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	var seed atomic.Uint64
	b.SetParallelism(64) // 128 writers on 2 cores: commits of 64 events, as the baseline fsyncs every 64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seed.Add(1), 0))
		for pb.Next() {
			if err := l.Record(ctx, event(r)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
