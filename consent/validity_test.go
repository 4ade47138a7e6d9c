package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
)

// TestLongValidityIsNotExpiredAtOnce: Register accepts any positive
// Validity; one that ends after 2262, beyond what an int64 of Unix
// nanoseconds holds, must not wrap around and read as expired as soon as
// consent is given.
func TestLongValidityIsNotExpiredAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	p := purposes()[0]
	p.Validity = 250 * 365 * 24 * time.Hour
	require.NoError(t, f.l.Register(p))
	rec, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	require.Equal(t, 2276, rec.Expires.Year())
	d := allowed(t, f.l, "u1", email)
	assert.True(t, d.Allowed, "%+v", d)
	assert.Equal(t, consent.ReasonGiven, d.Reason)
}
