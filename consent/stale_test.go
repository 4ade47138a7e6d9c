package consent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
)

// TestWithdrawIsNotLostToAStaleCache: a withdrawal decides whether it is
// a repeat from the Store, not from a cached state that another process
// has since changed, so that it is never silently dropped.
func TestWithdrawIsNotLostToAStaleCache(t *testing.T) {
	ctx := context.Background()
	store := consent.NewMemStore()
	opts := &consent.Options{TokenKey: []byte("token-key-token-key-token-key-32b")}
	a, err := consent.New(storeOnly{store}, opts) // not following: MaxStale 1s
	require.NoError(t, err)
	b, err := consent.New(storeOnly{store}, opts)
	require.NoError(t, err)
	for _, l := range []*consent.Ledger{a, b} {
		require.NoError(t, l.Register(purposes()...))
	}
	// a withdraws (and caches "withdrawn"); b, another process, records
	// consent; the person then withdraws again through a.
	_, err = a.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	_, err = a.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)

	hist, err := b.History(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, consent.Withdrawn, hist[len(hist)-1].Kind, "the second withdrawal was dropped: the consent given in between stands")

	// The same through an unsubscribe link and "unsubscribe from everything".
	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := a.UnsubscribeToken("u1", email)
	require.NoError(t, err)
	recs, err := a.Unsubscribe(ctx, tok, consent.Evidence{})
	require.NoError(t, err)
	require.Len(t, recs, 1, "the unsubscribe link recorded nothing")

	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	recs, err = a.WithdrawAll(ctx, consent.Choice{Subject: "u1"})
	require.NoError(t, err)
	found := false
	for _, r := range recs {
		found = found || r.Purpose == email
	}
	require.True(t, found, "WithdrawAll left the consent given elsewhere standing")
}
