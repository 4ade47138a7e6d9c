package sqlstore_test

import (
	"testing"

	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/breach/breachtest"
)

// TestBreachStoreConformance runs the breach.Store and breach.OutboxStore
// suites on each backend, with a fresh database (SQLite) or schema
// (PostgreSQL) per case.
func TestBreachStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		breachtest.Run(t, func(t *testing.T) breach.Store {
			return open(t, b.dsn(t)).BreachStore()
		})
		breachtest.RunOutbox(t, func(t *testing.T) breach.OutboxStore {
			return open(t, b.dsn(t)).BreachStore()
		})
	})
}
