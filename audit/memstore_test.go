package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"

	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/audit/audittest"
)

func TestMemStoreConformance(t *testing.T) {
	audittest.Run(t, func(*testing.T) audit.Store { return audit.NewMemStore() })
}

// fromDataStore checks the promise of Batch.FromData in every batch it is
// given.
type fromDataStore struct {
	*audit.MemStore
	t       *testing.T
	batches int
}

func (s *fromDataStore) Append(ctx context.Context, b audit.Batch) error {
	s.batches++
	assert.True(s.t, b.FromData, "a Logger's batch is marked FromData")
	for _, e := range b.Entries {
		assert.True(s.t, e.FromData(), "entry %d of a batch marked FromData", e.Index)
	}
	return s.MemStore.Append(ctx, b)
}

// TestLoggerBatchesAreFromData records events of every kind of field, a
// gap record among them, and checks that the Logger marks its batches
// FromData only when it may.
func TestLoggerBatchesAreFromData(t *testing.T) {
	s := &fromDataStore{MemStore: audit.NewMemStore(), t: t}
	l, err := audit.New(s, &audit.Options{
		HashKey: make([]byte, 32), BufferSize: 1, FlushDelay: time.Hour,
		DefaultPolicy: audit.Buffered, Policies: map[string]audit.Policy{"security": audit.Durable},
	})
	require.NoError(t, err)
	actx := dataward.WithActor(ctx, dataward.Actor{ID: "staff-7", Kind: dataward.ActorUser, SourceIP: "198.51.100.7"})
	// A Durable event, whose time is in another zone and finer than a
	// microsecond, is stored at once.
	require.NoError(t, l.Record(actx, audit.Event{Action: "auth.login", Class: "security",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 6789, time.FixedZone("SAST", 2*3600))}))
	for range 3 { // the second and third are dropped: the buffer holds one
		require.NoError(t, l.Record(actx, benchEvent()))
	}
	// Close stores the queued event and the gap record counting the drops.
	require.NoError(t, l.Close(ctx))
	entries, err := s.ReadEntries(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, entries, 3, "the Durable event, the queued one and the gap record")
	actions := make([]string, len(entries))
	for i, e := range entries {
		actions[i] = e.Action
	}
	assert.Contains(t, actions, audit.GapAction)
	assert.Positive(t, s.batches)
}
