package audit_test

import (
	"testing"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/audit/audittest"
)

func TestMemStoreConformance(t *testing.T) {
	audittest.Run(t, func(*testing.T) audit.Store { return audit.NewMemStore() })
}
