package sqlstore_test

import (
	"testing"

	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/retention/retentiontest"
)

// TestRetentionStoreConformance runs the retention.Store conformance suite
// on each backend, with a fresh database (SQLite) or schema (PostgreSQL)
// per case.
func TestRetentionStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		retentiontest.Run(t, func(t *testing.T) retention.Store {
			return open(t, b.dsn(t)).RetentionStore()
		})
	})
}
