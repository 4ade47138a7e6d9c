package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlockSource checks that the blocks a blockSource hands out, the
// first ones made at once and the others ahead of need, are empty, of the
// size asked for, zeroed, and distinct.
func TestBlockSource(t *testing.T) {
	var s blockSource[uint64]
	seen := make(map[*uint64]bool)
	for i := range 5 {
		b := s.take(chunkSize)
		require.Len(t, b, 0, "block %d", i)
		require.Equal(t, chunkSize, cap(b), "block %d", i)
		full := b[:cap(b)]
		for j, v := range full {
			require.Zero(t, v, "block %d, value %d", i, j)
		}
		require.False(t, seen[&full[0]], "block %d was handed out before", i)
		seen[&full[0]] = true
		for j := range full {
			full[j] = uint64(i + 1) // a later block must not see these
		}
	}
}

// TestMemStoreManyBlocks fills a MemStore past several blocks of entries
// (1 MiB each) and of hashes (4096 each), and reads it all back.
func TestMemStoreManyBlocks(t *testing.T) {
	s := NewMemStore()
	l, err := New(s, &Options{HashKey: make([]byte, 32), MaxBatch: 100})
	require.NoError(t, err)
	const n = 16000 // > 4 blocks of ~350-byte entries, > 5 chunks of hashes
	for i := range n {
		require.NoError(t, l.Record(t.Context(), Event{Action: "customer.view",
			Actor: Actor{ID: "staff-7", Kind: "user"}, Resource: Resource{Type: "customer", ID: string(rune('a' + i%26))},
			Reason: "a reason long enough to make each entry a few hundred bytes, as real events are; " +
				"the store keeps them in blocks of a megabyte"}))
	}
	require.NoError(t, l.Close(t.Context()))
	assert.Greater(t, len(s.entries.blocks), 3)
	assert.Greater(t, len(s.hashes.blocks), 5)
	entries, err := s.ReadEntries(t.Context(), 0, n+1)
	require.NoError(t, err)
	require.Len(t, entries, n)
	for i, e := range entries {
		want, err := DecodeEntry(e.Data)
		require.NoError(t, err, "entry %d", i)
		want.Index = int64(i)
		require.Equal(t, want, e, "entry %d", i)
	}
	report, err := Verify(t.Context(), s, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(n), report.Size)
}

// TestEntryLogDamagedDerived checks that an entry kept as Data alone whose
// Data does not decode reads back with its position and Data, and empty
// columns, for Verify to report.
func TestEntryLogDamagedDerived(t *testing.T) {
	var l entryLog
	good, err := DecodeEntry(encode(nil, 0, &Event{ID: "e-1", Action: "customer.view", Outcome: Success,
		Time: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), Actor: Actor{ID: "staff-7", Kind: "user"}}))
	require.NoError(t, err)
	l.add(&good, true)
	bad := Entry{Index: 1, Data: []byte("not an encoding")}
	l.add(&bad, true)
	assert.Equal(t, good, l.at(0))
	assert.Equal(t, Entry{Index: 1, Data: bad.Data}, l.at(1))
}
