package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/pii"
)

// Secret values are sealed under the subject's key: readable while the
// subject exists, erased once the subject is shredded, and the log still
// verifies.
func TestErasureKeepsVerification(t *testing.T) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	kek, err := aead.New(h)
	require.NoError(t, err)
	keyring, err := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)
	require.NoError(t, err)
	f := newFixture(t, &audit.Options{Sealer: keyring})

	for _, subject := range []string{"cust-1", "cust-2"} {
		require.NoError(t, f.log.Record(ctx, audit.Event{
			Action:   "customer.update",
			Subject:  dataward.SubjectID(subject),
			Changes:  []audit.Change{{Field: "email", Before: "z***@example.com", After: "n***@example.com"}},
			Metadata: []audit.Attr{{Key: "note", Value: "called about " + subject, Sensitivity: audit.Secret}},
		}))
	}
	read := func(subject dataward.SubjectID) audit.StoredEvent {
		events, _, err := f.log.Query(ctx, audit.Query{Subject: subject})
		require.NoError(t, err)
		require.Len(t, events, 1)
		return events[0]
	}
	e := read("cust-1")
	assert.Equal(t, "z***@example.com", e.Changes[0].Before)
	assert.Equal(t, "called about cust-1", e.Metadata[0].Value)
	assert.NotContains(t, string(e.Data), "z***@example.com", "the stored encoding holds only the sealed value")
	assert.NotContains(t, string(e.Data), "cust-1", "nor the subject in clear")

	_, err = keyring.Shred(ctx, "cust-1")
	require.NoError(t, err)
	e = read("cust-1")
	assert.Equal(t, audit.Erased, e.Changes[0].Before)
	assert.Equal(t, audit.Erased, e.Changes[0].After)
	assert.Equal(t, audit.Erased, e.Metadata[0].Value)
	assert.Equal(t, "n***@example.com", read("cust-2").Changes[0].After, "other subjects are untouched")

	c, err := f.log.Checkpoint(ctx)
	require.NoError(t, err)
	_, err = audit.Verify(ctx, f.store, &audit.VerifyOptions{PublicKey: f.publicKey, Trusted: [][]byte{c.Note}})
	require.NoError(t, err)

	// Without naming the subject, secret values cannot be opened at all.
	events, _, err := f.log.Query(ctx, audit.Query{Action: "customer.update"})
	require.NoError(t, err)
	for _, e := range events {
		assert.Equal(t, audit.Sealed, e.Changes[0].Before)
	}
}
