package audit_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dataward/dataward/audit"
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
// commit).
func BenchmarkAppendSQLite(b *testing.B) {
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "audit.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l, err := audit.New(db.AuditStore(), &audit.Options{HashKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	e := benchEvent()
	b.SetParallelism(64) // 128 writers on 2 cores: commits of 64 events, as the baseline fsyncs every 64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Record(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
