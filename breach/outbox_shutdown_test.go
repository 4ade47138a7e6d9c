package breach_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

// TestOutboxShutdownKeepsProofOfSentNotice: a notice the server accepted
// just as the Outbox is shut down (ctx cancelled) keeps its receipt and is
// marked delivered, rather than losing the proof of delivery and being sent
// again by the next run once the lease lapses.
func TestOutboxShutdownKeepsProofOfSentNotice(t *testing.T) {
	store := breach.NewMemStore()
	ctx, shutdown := context.WithCancel(context.Background())
	sent := 0
	n := breach.NotifierFunc(func(_ context.Context, m breach.Message) (string, error) {
		sent++
		shutdown() // the host shuts down while the server accepts the message
		return "250 queued", nil
	})
	ob, err := breach.NewOutbox(store, map[string]breach.Notifier{"email": n}, &breach.OutboxOptions{Workers: 1})
	require.NoError(t, err)
	notice := finalNotice(t)
	_, err = ob.Enqueue(context.Background(), notice, "initial", recipients(1, false))
	require.NoError(t, err)
	assert.ErrorIs(t, ob.Run(ctx), context.Canceled)
	require.Equal(t, 1, sent)

	proof, err := ob.Proof(context.Background(), notice.Incident)
	require.NoError(t, err)
	require.Len(t, proof, 1, "the accepted notice's receipt is kept")
	assert.True(t, proof[0].OK)
	ds, err := ob.Deliveries(context.Background(), notice.Incident)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, breach.Delivered, ds[0].State)
}
