package consent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// TestWithdrawAllBadInputChangesNothing: WithdrawAll checks its Choice for
// every purpose before it records anything, so that bad input gets an
// error and leaves the ledger as it was.
func TestWithdrawAllBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)

	// The Ref gets "/" and each purpose's key appended: 220 bytes fit the
	// 255 with the keys of email and analytics, not with that of ads.
	ref := strings.Repeat("r", 220)
	recs, err := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u1", Ref: ref})
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Empty(t, recs)
	hist, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "WithdrawAll refused the input but withdrew some purposes")

	// Bad input is an error even when there is nothing to withdraw.
	_, err = f.l.WithdrawAll(ctx, consent.Choice{Subject: "u9", Method: "carrier-pigeon"})
	_, err2 := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u9", Jurisdiction: "not a code"})
	for _, p := range []string{email, analytics, ads} {
		_, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u8", Purpose: p})
		require.NoError(t, err)
	}
	_, err3 := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u8", Method: "carrier-pigeon"})
	assert.ErrorAs(t, err, &ve)
	assert.ErrorAs(t, err2, &ve)
	assert.ErrorAs(t, err3, &ve, "bad input with nothing to withdraw is accepted silently")
}
