package breach_test

import (
	"testing"

	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/breach/breachtest"
)

// TestMemStoreConformance runs the breach.Store suite on MemStore.
func TestMemStoreConformance(t *testing.T) {
	breachtest.Run(t, func(t *testing.T) breach.Store { return breach.NewMemStore() })
}

// TestMemStoreOutboxConformance runs the breach.OutboxStore suite on
// MemStore.
func TestMemStoreOutboxConformance(t *testing.T) {
	breachtest.RunOutbox(t, func(t *testing.T) breach.OutboxStore { return breach.NewMemStore() })
}
