package sqlstore_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// ReadHashes of an index that no log can hold, the largest int64 among
// them, returns an error matching audit.ErrNotFound, as for any index
// never stored, rather than spinning for ever (tlog.SplitStoredHashIndex
// never returns for it).
func TestAuditStoreReadHashesHugeIndex(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := open(t, be.dsn(t)).AuditStore()
		appendBoth(t, newEntryGen(3), 5, s, audit.NewMemStore())
		for _, x := range []int64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, math.MinInt64} {
			done := make(chan error, 1)
			go func() {
				_, err := s.ReadHashes(ctx, []int64{0, x})
				done <- err
			}()
			select {
			case err := <-done:
				require.ErrorIs(t, err, audit.ErrNotFound, "index %d", x)
			case <-time.After(10 * time.Second):
				t.Fatalf("ReadHashes of index %d has not returned after 10 s", x)
			}
		}
	})
}
