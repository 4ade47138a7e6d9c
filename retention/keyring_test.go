package retention_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/retention"
)

// TestKeyringShredder: a Shred policy with a real *pii.Keyring, through
// KeyringShredder, destroys the data keys of the subjects of expired
// records, so their sealed values can no longer be opened; a subject under
// a hold and a subject whose records are not yet due keep their keys;
// shredding a subject twice succeeds.
func TestKeyringShredder(t *testing.T) {
	ctx := context.Background()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	kek, err := aead.New(h)
	require.NoError(t, err)
	keyring, err := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)
	require.NoError(t, err)

	sealed := map[dataward.SubjectID]string{}
	for _, s := range []dataward.SubjectID{"old", "held", "recent"} {
		sealed[s], err = keyring.SealString(ctx, s, "customer.email", string(s)+"@example.com")
		require.NoError(t, err)
	}
	tickets := retention.NewMemTarget(
		retention.Record{ID: "t1", Subject: "old", Created: date(2020, 1, 10, 9, 0)},
		retention.Record{ID: "t2", Subject: "old", Created: date(2020, 2, 10, 9, 0)},
		retention.Record{ID: "t3", Subject: "held", Created: date(2020, 3, 10, 9, 0)},
		retention.Record{ID: "t4", Subject: "recent", Created: date(2025, 3, 10, 9, 0)},
	)
	shredder := retention.KeyringShredder(keyring)
	sw, err := retention.New(retention.NewMemStore(),
		schedule(policy("support_tickets", "5 years", retention.SinceCreated, retention.Shred)),
		map[string]retention.Target{"support_tickets": tickets},
		&retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
	require.NoError(t, err)
	_, err = sw.PlaceHold(ctx, retention.Hold{Subject: "held", Reason: "litigation 2026-17"})
	require.NoError(t, err)

	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"t1", "t2"}, rep.Policies[0].Disposed)
	assert.Len(t, rep.Policies[0].Held, 1)

	_, err = keyring.OpenString(ctx, "old", "customer.email", sealed["old"])
	require.ErrorIs(t, err, pii.ErrShredded, "the expired subject's data can no longer be read")
	at, err := keyring.ShreddedAt(ctx, "old")
	require.NoError(t, err)
	assert.False(t, at.IsZero())
	for _, s := range []dataward.SubjectID{"held", "recent"} {
		v, err := keyring.OpenString(ctx, s, "customer.email", sealed[s])
		require.NoError(t, err, s)
		assert.Equal(t, string(s)+"@example.com", v)
	}
	// Disposed records are marked, not listed again; shredding again is
	// harmless.
	again, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, again.Policies[0].Disposed)
	require.NoError(t, shredder.Shred(ctx, "old"))
	r, ok := tickets.Get("t1")
	require.True(t, ok)
	assert.False(t, r.Disposed.IsZero())
}
