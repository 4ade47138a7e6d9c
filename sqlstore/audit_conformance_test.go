package sqlstore_test

import (
	"testing"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/audit/audittest"
)

// TestAuditStoreConformance runs the audit.Store conformance suite on each
// backend, with a fresh database (SQLite) or schema (PostgreSQL) per case.
func TestAuditStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		audittest.Run(t, func(t *testing.T) audit.Store {
			return open(t, b.dsn(t)).AuditStore()
		})
	})
}
