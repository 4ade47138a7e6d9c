package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A log of n events in a MemStore, with a checkpoint of the whole log kept
// outside the store, for tampering with.
func tamperFixture(t *testing.T, n int) (*MemStore, string, []byte) {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "tamper.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	store := NewMemStore()
	l, err := New(store, &Options{Signer: signer, HashKey: make([]byte, 32), CheckpointEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Record(ctx, Event{Action: "test.event", RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store.checkpoints = nil // only the trusted copy, held outside, remains
	return store, vkey, c.Note
}

// tampered gives the test the store's entries and hashes as slices, and
// puts them back after tamper changed them.
func tampered(s *MemStore, tamper func(entries *[]Entry, hashes []tlog.Hash)) {
	entries, hashes := s.entries.all(), s.hashes.all()
	tamper(&entries, hashes)
	s.entries.set(entries)
	s.hashes.set(hashes)
}

// renumber makes the entries' Index match their positions again, as an
// attacker with write access to the table would.
func renumber(entries []Entry) {
	for i := range entries {
		entries[i].Index = int64(i)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	type log = *[]Entry
	tests := []struct {
		name   string
		tamper func(e log, h []tlog.Hash)
		kind   DamageKind
		at     int64
	}{
		{"modify a field", func(e log, h []tlog.Hash) {
			d := (*e)[37].Data
			d[len(d)-1] ^= 1
		}, Modified, 37},
		{"replace content, recomputing the leaf hash", func(e log, h []tlog.Hash) {
			_, ev, _ := decode((*e)[37].Data)
			ev.RequestID = "forged"
			(*e)[37].Data = encode(nil, 37, &ev)
		}, Modified, 37},
		{"delete a row and renumber", func(e log, h []tlog.Hash) {
			*e = slices.Delete(*e, 40, 41)
			renumber(*e)
		}, Deleted, 40},
		{"delete three rows and renumber", func(e log, h []tlog.Hash) {
			*e = slices.Delete(*e, 40, 43)
			renumber(*e)
		}, Deleted, 40},
		{"insert a copy of a row", func(e log, h []tlog.Hash) {
			*e = slices.Insert(*e, 50, (*e)[10])
			renumber(*e)
		}, Inserted, 50},
		{"insert a forged row claiming the position", func(e log, h []tlog.Hash) {
			_, ev, _ := decode((*e)[50].Data)
			ev.Action = "forged.event"
			*e = slices.Insert(*e, 50, Entry{Data: encode(nil, 50, &ev)})
			renumber(*e)
		}, Inserted, 50},
		{"swap two rows", func(e log, h []tlog.Hash) {
			(*e)[20].Data, (*e)[70].Data = (*e)[70].Data, (*e)[20].Data
		}, Reordered, 20},
		{"swap two adjacent rows", func(e log, h []tlog.Hash) {
			(*e)[20].Data, (*e)[21].Data = (*e)[21].Data, (*e)[20].Data
		}, Reordered, 20},
		{"truncate the tail", func(e log, h []tlog.Hash) {
			*e = (*e)[:90]
		}, Truncated, 90},
		{"append a row past the end", func(e log, h []tlog.Hash) {
			last := (*e)[99]
			last.Index = 100
			*e = append(*e, last)
		}, Inserted, 100},
		{"rewrite an entry and every tree hash to match", func(e log, h []tlog.Hash) {
			_, ev, _ := decode((*e)[37].Data)
			ev.RequestID = "forged"
			(*e)[37].Data = encode(nil, 37, &ev)
			copy(h, rehash(t, *e))
		}, Modified, 0}, // only the trusted checkpoint can tell, and it covers 0..99
		{"rewrite a stored interior hash", func(e log, h []tlog.Hash) {
			h[len(h)-1][0] ^= 1
		}, BadHashes, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, vkey, trusted := tamperFixture(t, 100)
			opts := &VerifyOptions{PublicKey: vkey, Trusted: [][]byte{trusted}, BatchSize: 16}
			if _, err := Verify(context.Background(), store, opts); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			tampered(store, tt.tamper)
			_, err := Verify(context.Background(), store, opts)
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("Verify = %v, want a *DamageError", err)
			}
			if de.Kind != tt.kind || de.Index != tt.at {
				t.Fatalf("Verify = %v, want %s at %d", err, tt.kind, tt.at)
			}
		})
	}
}

// rehash recomputes every stored hash from the entries, as an attacker
// covering their tracks would.
func rehash(t *testing.T, entries []Entry) []tlog.Hash {
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for _, e := range entries {
		hs, err := tlog.StoredHashes(e.Index, e.Data, r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	return hashes
}
