package sqlstore_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/sqlstore"
)

// BenchmarkAuditStoreQuery reads a page (100 entries; the first, unless
// After says otherwise) of typical queries from a log of 100,000 entries, one a millisecond, each done by
// one of 100 actors to one of 10,000 subjects drawn at random: the worst
// case for the indexes of runs (see migrations/0007_audit_runs.sql), where
// nearly every entry is a run of its own.
func BenchmarkAuditStoreQuery(b *testing.B) {
	const n = 100_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, benchDSN(b, be), nil)
			require.NoError(b, err)
			defer db.Close()
			st := db.AuditStore()
			mem := audit.NewMemStore()
			g := newEntryGen(11)
			rng := mrand.New(mrand.NewPCG(11, 11))
			times := make([]time.Time, n)
			for start := 0; start < n; start += 64 {
				entries := g.entries(min(64, n-start))
				for i := range entries {
					times[start+i] = genTimeStart.Add(time.Duration(start+i) * time.Millisecond)
					entries[i].Time = times[start+i]
					entries[i].ActorID = fmt.Sprint("staff-", rng.IntN(100))
					entries[i].Subject = fmt.Sprint("h:cust-", rng.IntN(10_000))
				}
				batch, err := batchAt(ctx, mem, int64(start), entries)
				require.NoError(b, err)
				require.NoError(b, mem.Append(ctx, batch))
				require.NoError(b, st.Append(ctx, batch))
			}
			if be.name == "Postgres" {
				// As autovacuum would have, in a database that has run for
				// a while: without statistics, PostgreSQL plans a table
				// just filled as if it were small.
				_, err := db.SQL().ExecContext(ctx, "ANALYZE dataward_audit_entries")
				require.NoError(b, err)
			}
			for _, q := range []struct {
				name string
				f    audit.Filter
			}{
				{"subject", audit.Filter{Subject: "h:cust-42"}},
				{"actor", audit.Filter{ActorID: "staff-42"}},
				{"from", audit.Filter{From: times[n-1000]}},
				{"to", audit.Filter{To: times[1000]}},
				{"to-end", audit.Filter{To: times[n-1]}},
				{"from-start", audit.Filter{From: times[0]}},
				{"from-to", audit.Filter{From: times[n/2], To: times[n/2+500]}},
				{"subject-from", audit.Filter{Subject: "h:cust-42", From: times[n/2]}},
				{"all", audit.Filter{}},
				// Later pages: deep in a span of the whole log, and the
				// last of a span that ends early (fewer than a page left).
				{"from-start-deep", audit.Filter{From: times[0], After: n - 2000}},
				{"from-to-last", audit.Filter{From: times[1000], To: times[1300], After: 1250}},
			} {
				b.Run(q.name, func(b *testing.B) {
					f := q.f
					f.After, f.Limit = max(f.After, -1), 100
					want, err := mem.Query(ctx, f)
					require.NoError(b, err)
					for b.Loop() {
						got, err := st.Query(ctx, f)
						if err != nil {
							b.Fatal(err)
						}
						if len(got) != len(want) {
							b.Fatalf("%d entries, want %d", len(got), len(want))
						}
					}
				})
			}
		})
	}
}
