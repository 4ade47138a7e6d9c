package pii_test

import (
	"testing"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/piitest"
)

func TestMemKeyStoreConformance(t *testing.T) {
	piitest.Run(t, func(*testing.T) pii.KeyStore { return pii.NewMemKeyStore() })
}
