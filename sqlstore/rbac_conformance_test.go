package sqlstore_test

import (
	"testing"

	"github.com/dataward/dataward/rbac"
	"github.com/dataward/dataward/rbac/rbactest"
)

// TestRBACStoreConformance runs the rbac.Store (and Watcher) conformance
// suite on each backend, with a fresh database (SQLite) or schema
// (PostgreSQL) per case.
func TestRBACStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		rbactest.Run(t, func(t *testing.T) rbac.Store {
			return open(t, b.dsn(t)).RBACStore()
		})
	})
}

// TestRBACStoreConformanceOneConnection runs the suite on SQLite's
// :memory: database, whose pool has a single connection: Watch then polls
// the head through the pool.
func TestRBACStoreConformanceOneConnection(t *testing.T) {
	rbactest.Run(t, func(t *testing.T) rbac.Store {
		return open(t, "sqlite::memory:").RBACStore()
	})
}
