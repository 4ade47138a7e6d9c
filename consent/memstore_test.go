package consent_test

import (
	"testing"

	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/consent/consenttest"
)

func TestMemStoreConformance(t *testing.T) {
	consenttest.Run(t, func(t *testing.T) consent.Store { return consent.NewMemStore() })
}
