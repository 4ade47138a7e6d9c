package retention_test

import (
	"testing"

	"github.com/dataward/dataward/retention"
	"github.com/dataward/dataward/retention/retentiontest"
)

// TestMemStoreConformance runs the retention.Store suite on MemStore.
func TestMemStoreConformance(t *testing.T) {
	retentiontest.Run(t, func(t *testing.T) retention.Store { return retention.NewMemStore() })
}
