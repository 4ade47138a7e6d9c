package rbac_test

import (
	"testing"

	"github.com/dataward/dataward/rbac"
	"github.com/dataward/dataward/rbac/rbactest"
)

// TestMemStoreConformance runs the rbac.Store and Watcher suite on
// MemStore.
func TestMemStoreConformance(t *testing.T) {
	rbactest.Run(t, func(t *testing.T) rbac.Store { return rbac.NewMemStore() })
}
