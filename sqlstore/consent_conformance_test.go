package sqlstore_test

import (
	"testing"

	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/consent/consenttest"
)

// TestConsentStoreConformance runs the consent.Store (and Watcher)
// conformance suite on each backend, with a fresh database (SQLite) or
// schema (PostgreSQL) per case.
func TestConsentStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		consenttest.Run(t, func(t *testing.T) consent.Store {
			return open(t, b.dsn(t)).ConsentStore()
		})
	})
}

// TestConsentStoreConformanceOneConnection runs the suite on SQLite's
// :memory: database, whose pool has a single connection: Watch then polls
// the head through the pool.
func TestConsentStoreConformanceOneConnection(t *testing.T) {
	consenttest.Run(t, func(t *testing.T) consent.Store {
		return open(t, "sqlite::memory:").ConsentStore()
	})
}
