// Package audittest checks that an [audit.Store] implementation keeps the
// contract that the [audit.Logger] relies on. A host that writes its own
// store runs the whole suite from one test:
//
//	func TestAuditStoreConformance(t *testing.T) {
//		audittest.Run(t, func(t *testing.T) audit.Store {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library (and the tlog package that the
// Store interface itself names). Each case runs as a subtest with a stable
// name, on a fresh store made by newStore.
package audittest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/conformance"
)

// A test case: the contract clause it checks, and the check.
type testCase = conformance.Case[audit.Store]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it).
func Run(t *testing.T, newStore func(t *testing.T) audit.Store) {
	t.Helper()
	conformance.Run(t, cases, newStore)
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// The values of the query columns of sample entries. Some differ only by
// case: a store must compare them byte for byte. "" is a column left empty.
var (
	actions  = []string{"read", "Read", "update", "erase"}
	classes  = []string{"access", "change"}
	actors   = []string{"alice", "Alice", "svc-7", ""}
	subjects = []string{"hk:3f9a", "HK:3F9A", "hk:77c1", ""}
	rtypes   = []string{"patient", "Patient", "invoice"}
	rids     = []string{"p-1", "P-1", "ünï/ключ", ""}
	outcomes = []audit.Outcome{audit.Success, audit.Denied, audit.Failure}
)

// sample returns the test entry at position n. Its columns are drawn from
// the values above, independently of one another, so that every filter
// matches some entries and not others; its times repeat and are not in
// order of position; its Data holds bytes that a text column would mangle.
func sample(n int64) audit.Entry {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	pick := func(values []string) string { return values[r.IntN(len(values))] }
	return audit.Entry{
		Index:        n,
		Data:         fmt.Appendf([]byte{0, 0xff}, "record %d\n\xfe", n),
		Time:         base.Add(time.Duration(r.IntN(30))*time.Minute + time.Duration(r.IntN(3))*time.Microsecond),
		Action:       pick(actions),
		Class:        pick(classes),
		ActorID:      pick(actors),
		Subject:      pick(subjects),
		ResourceType: pick(rtypes),
		ResourceID:   pick(rids),
		Outcome:      outcomes[r.IntN(len(outcomes))],
	}
}

// storeReader reads the hashes stored in s, for tlog.
func storeReader(ctx context.Context, s audit.Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, indexes)
	})
}

// makeBatch returns the batch that appends entries, whose Index fields must
// follow on from the log's size, with the tree hashes tlog computes for
// them. It reads earlier hashes from s, and later ones from the batch.
func makeBatch(ctx context.Context, s audit.Store, entries []audit.Entry) (audit.Batch, error) {
	b := audit.Batch{Entries: entries}
	if len(entries) == 0 {
		return b, nil
	}
	first := tlog.StoredHashIndex(0, entries[0].Index)
	read := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		var old []int64
		for _, x := range indexes {
			if x < first {
				old = append(old, x)
			}
		}
		var stored []tlog.Hash
		if len(old) > 0 {
			var err error
			if stored, err = s.ReadHashes(ctx, old); err != nil {
				return nil, fmt.Errorf("ReadHashes(%v): %v", old, err)
			}
			if len(stored) != len(old) {
				return nil, fmt.Errorf("ReadHashes(%v) returned %d hashes", old, len(stored))
			}
		}
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < first {
				out[i], stored = stored[0], stored[1:]
			} else {
				out[i] = b.Hashes[x-first].Hash
			}
		}
		return out, nil
	})
	for _, e := range entries {
		hashes, err := tlog.StoredHashes(e.Index, e.Data, read)
		if err != nil {
			return audit.Batch{}, fmt.Errorf("hashing entry %d: %v", e.Index, err)
		}
		at := tlog.StoredHashIndex(0, e.Index)
		for i, h := range hashes {
			b.Hashes = append(b.Hashes, audit.StoredHash{Index: at + int64(i), Hash: h})
		}
	}
	return b, nil
}

// samples returns the sample entries at positions [start, start+n).
func samples(start int64, n int) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = sample(start + int64(i))
	}
	return out
}

// fill appends sample entries at the end of the log, one batch per size
// given, and returns them.
func fill(ctx context.Context, s audit.Store, batchSizes ...int) ([]audit.Entry, error) {
	var all []audit.Entry
	for _, n := range batchSizes {
		size, err := s.Size(ctx)
		if err != nil {
			return nil, fmt.Errorf("Size: %v", err)
		}
		b, err := makeBatch(ctx, s, samples(size, n))
		if err != nil {
			return nil, err
		}
		if err := s.Append(ctx, b); err != nil {
			return nil, fmt.Errorf("Append(%d entries at %d): %v", n, size, err)
		}
		all = append(all, b.Entries...)
	}
	return all, nil
}

// treeHashes returns the stored hashes of a log holding entries.
func treeHashes(entries []audit.Entry) ([]tlog.Hash, error) {
	var stored []tlog.Hash
	read := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hashes, err := tlog.StoredHashes(int64(i), e.Data, read)
		if err != nil {
			return nil, err
		}
		stored = append(stored, hashes...)
	}
	return stored, nil
}

// checkLog checks that s holds exactly want, in order, with the tree hashes
// of want and no other hash.
func checkLog(ctx context.Context, s audit.Store, want []audit.Entry) error {
	size, err := s.Size(ctx)
	if err != nil {
		return fmt.Errorf("Size: %v", err)
	}
	if size != int64(len(want)) {
		return fmt.Errorf("Size = %d, want %d", size, len(want))
	}
	got, err := s.ReadEntries(ctx, 0, len(want)+1)
	if err != nil {
		return fmt.Errorf("ReadEntries(0, %d): %v", len(want)+1, err)
	}
	if err := sameEntries(fmt.Sprintf("ReadEntries(0, %d)", len(want)+1), got, want); err != nil {
		return err
	}
	hashes, err := treeHashes(want)
	if err != nil {
		return err
	}
	if len(hashes) > 0 {
		indexes := make([]int64, len(hashes))
		for i := range indexes {
			indexes[i] = int64(i)
		}
		stored, err := s.ReadHashes(ctx, indexes)
		if err != nil {
			return fmt.Errorf("ReadHashes(0 to %d): %v", len(hashes)-1, err)
		}
		if err := sameHashes(indexes, stored, hashes); err != nil {
			return err
		}
	}
	if _, err := s.ReadHashes(ctx, []int64{int64(len(hashes))}); !errors.Is(err, audit.ErrNotFound) {
		return fmt.Errorf("ReadHashes(%d), past the last hash of a log of %d entries: error = %v, want ErrNotFound", len(hashes), len(want), err)
	}
	return nil
}

func sameHashes(indexes []int64, got, want []tlog.Hash) error {
	if len(got) != len(want) {
		return fmt.Errorf("ReadHashes(%d indexes) returned %d hashes", len(want), len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("ReadHashes: hash %d (storage index %d) = %v, want %v", i, indexes[i], got[i], want[i])
		}
	}
	return nil
}

func sameEntry(got, want audit.Entry) error {
	switch {
	case got.Index != want.Index:
		return fmt.Errorf("Index = %d, want %d", got.Index, want.Index)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Errorf("Data = %.60q (%d bytes), want %.60q (%d bytes)", got.Data, len(got.Data), want.Data, len(want.Data))
	case !got.Time.Equal(want.Time):
		return fmt.Errorf("Time = %v, want %v", got.Time, want.Time)
	case got.Action != want.Action:
		return fmt.Errorf("Action = %q, want %q", got.Action, want.Action)
	case got.Class != want.Class:
		return fmt.Errorf("Class = %q, want %q", got.Class, want.Class)
	case got.ActorID != want.ActorID:
		return fmt.Errorf("ActorID = %q, want %q", got.ActorID, want.ActorID)
	case got.Subject != want.Subject:
		return fmt.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	case got.ResourceType != want.ResourceType:
		return fmt.Errorf("ResourceType = %q, want %q", got.ResourceType, want.ResourceType)
	case got.ResourceID != want.ResourceID:
		return fmt.Errorf("ResourceID = %q, want %q", got.ResourceID, want.ResourceID)
	case got.Outcome != want.Outcome:
		return fmt.Errorf("Outcome = %q, want %q", got.Outcome, want.Outcome)
	}
	return nil
}

// sameEntries compares what a call returned with what it should have.
func sameEntries(call string, got, want []audit.Entry) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s returned the entries at %v, want %v", call, indexesOf(got), indexesOf(want))
	}
	for i := range want {
		if err := sameEntry(got[i], want[i]); err != nil {
			return fmt.Errorf("%s: entry %d: %v", call, want[i].Index, err)
		}
	}
	return nil
}

func indexesOf(entries []audit.Entry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.Index
	}
	return out
}

func cloneEntries(entries []audit.Entry) []audit.Entry {
	out := slices.Clone(entries)
	for i := range out {
		out[i].Data = slices.Clone(out[i].Data)
	}
	return out
}

// cloneBatch returns a copy of b that can be changed without changing b.
func cloneBatch(b audit.Batch) audit.Batch {
	return audit.Batch{Entries: cloneEntries(b.Entries), Hashes: slices.Clone(b.Hashes)}
}

// expect returns what Query(f) must return from a log holding all.
func expect(all []audit.Entry, f audit.Filter) []audit.Entry {
	var out []audit.Entry
	for _, e := range all {
		if e.Index > f.After && f.Matches(e) && len(out) < f.Limit {
			out = append(out, e)
		}
	}
	return out
}

// checkQuery checks that Query(f) returns what it must from a log holding
// all.
func checkQuery(ctx context.Context, s audit.Store, all []audit.Entry, f audit.Filter) error {
	got, err := s.Query(ctx, f)
	if err != nil {
		return fmt.Errorf("Query(%s): %v", describe(f), err)
	}
	return sameEntries(fmt.Sprintf("Query(%s)", describe(f)), got, expect(all, f))
}

// describe shows the fields of f that are set.
func describe(f audit.Filter) string {
	var parts []string
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"From", f.From}, {"To", f.To}} {
		if !t.t.IsZero() {
			parts = append(parts, t.name+":"+t.t.Format(time.RFC3339Nano))
		}
	}
	for _, v := range []struct{ name, v string }{
		{"Action", f.Action}, {"ActorID", f.ActorID}, {"Subject", f.Subject},
		{"ResourceType", f.ResourceType}, {"ResourceID", f.ResourceID}, {"Outcome", string(f.Outcome)},
	} {
		if v.v != "" {
			parts = append(parts, fmt.Sprintf("%s:%q", v.name, v.v))
		}
	}
	parts = append(parts, fmt.Sprintf("After:%d Limit:%d", f.After, f.Limit))
	return "{" + strings.Join(parts, " ") + "}"
}

// queryLog is the log the Query cases run on: 40 sample entries.
func queryLog(ctx context.Context, s audit.Store) ([]audit.Entry, error) {
	return fill(ctx, s, 1, 7, 20, 12)
}

// checkpoint returns a checkpoint of the first size entries of the log,
// with their true root hash and a note in the checkpoint format.
func checkpoint(ctx context.Context, s audit.Store, size int64) (audit.Checkpoint, error) {
	root, err := tlog.TreeHash(size, storeReader(ctx, s))
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("tlog.TreeHash(%d) over ReadHashes: %v", size, err)
	}
	return audit.Checkpoint{
		Size: size,
		Root: root,
		Time: base.Add(time.Duration(size) * time.Hour),
		Note: fmt.Appendf(nil, "dataward.test/audit\n%d\n%v\n\n— dataward.test/audit q7Hk%dAbc=\n", size, root, size),
	}, nil
}

func sameCheckpoint(got, want audit.Checkpoint) error {
	switch {
	case got.Size != want.Size:
		return fmt.Errorf("Size = %d, want %d", got.Size, want.Size)
	case got.Root != want.Root:
		return fmt.Errorf("Root = %v, want %v", got.Root, want.Root)
	case !got.Time.Equal(want.Time):
		return fmt.Errorf("Time = %v, want %v", got.Time, want.Time)
	case !bytes.Equal(got.Note, want.Note):
		return fmt.Errorf("Note = %q, want %q", got.Note, want.Note)
	}
	return nil
}

// checkCheckpoints checks that Checkpoints(minSize, limit) returns want.
func checkCheckpoints(ctx context.Context, s audit.Store, minSize int64, limit int, want ...audit.Checkpoint) error {
	got, err := s.Checkpoints(ctx, minSize, limit)
	if err != nil {
		return fmt.Errorf("Checkpoints(%d, %d): %v", minSize, limit, err)
	}
	sizes := func(cs []audit.Checkpoint) []int64 {
		out := make([]int64, len(cs))
		for i, c := range cs {
			out[i] = c.Size
		}
		return out
	}
	if len(got) != len(want) {
		return fmt.Errorf("Checkpoints(%d, %d) returned sizes %v, want %v", minSize, limit, sizes(got), sizes(want))
	}
	for i := range want {
		if err := sameCheckpoint(got[i], want[i]); err != nil {
			return fmt.Errorf("Checkpoints(%d, %d): checkpoint %d: %v", minSize, limit, i, err)
		}
	}
	return nil
}

// checkLatest checks that LatestCheckpoint returns want.
func checkLatest(ctx context.Context, s audit.Store, want audit.Checkpoint) error {
	got, err := s.LatestCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("LatestCheckpoint: %v", err)
	}
	if err := sameCheckpoint(got, want); err != nil {
		return fmt.Errorf("LatestCheckpoint: %v", err)
	}
	return nil
}

// appendRejected checks that Append(bad) fails and stores nothing, then
// that good, the batch bad was made from, appends: nothing of bad is left to
// stand in its way. want is the log before.
func appendRejected(ctx context.Context, s audit.Store, want []audit.Entry, bad, good audit.Batch, what string) error {
	if err := s.Append(ctx, bad); err == nil {
		return fmt.Errorf("Append of a batch %s succeeded", what)
	}
	if err := checkLog(ctx, s, want); err != nil {
		return fmt.Errorf("after a failed Append of a batch %s: %v", what, err)
	}
	if err := s.Append(ctx, good); err != nil {
		return fmt.Errorf("Append of the correct batch, after one %s failed: %v", what, err)
	}
	return checkLog(ctx, s, append(want, good.Entries...))
}

var cases = []testCase{
	{
		Name:   "EmptyLog",
		Clause: "a new store holds no entries, no hashes and no checkpoints",
		Run: func(ctx context.Context, s audit.Store) error {
			if err := checkLog(ctx, s, nil); err != nil {
				return err
			}
			if err := checkQuery(ctx, s, nil, audit.Filter{After: -1, Limit: 10}); err != nil {
				return err
			}
			return checkCheckpoints(ctx, s, 0, 10)
		},
	},
	{
		Name:   "AppendAndRead",
		Clause: "Append stores the entries and tree hashes of a batch; ReadEntries and ReadHashes return them unchanged, byte for byte",
		Run: func(ctx context.Context, s audit.Store) error {
			want, err := fill(ctx, s, 1, 2, 5, 1, 8)
			if err != nil {
				return err
			}
			// One entry with a large record and columns left empty.
			big := audit.Entry{
				Index:  int64(len(want)),
				Data:   bytes.Repeat([]byte("\x00\xff{\"k\":\"ünï\"}"), 6000),
				Time:   time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC), // before the Unix epoch
				Action: "export",
			}
			b, err := makeBatch(ctx, s, []audit.Entry{big})
			if err != nil {
				return err
			}
			if err := s.Append(ctx, b); err != nil {
				return fmt.Errorf("Append(entry with a %d-byte record): %v", len(big.Data), err)
			}
			return checkLog(ctx, s, append(want, big))
		},
	},
	{
		Name: "AppendFromData",
		Clause: "the entries of a batch marked FromData, as a Logger appends them, are read back, and found by Query, " +
			"with the columns their Data encodes (audit.DecodeEntry)",
		Run: func(ctx context.Context, s audit.Store) error {
			l, err := audit.New(s, &audit.Options{HashKey: make([]byte, 32), MaxBatch: 4})
			if err != nil {
				return fmt.Errorf("audit.New: %v", err)
			}
			for i := range 10 {
				e := audit.Event{
					Action:   actions[i%len(actions)],
					Actor:    audit.Actor{ID: actors[i%3], Kind: "user"},
					Subject:  dataward.SubjectID(fmt.Sprint("subject-", i%4)),
					Resource: audit.Resource{Type: rtypes[i%len(rtypes)], ID: fmt.Sprint(i)},
					Outcome:  outcomes[i%len(outcomes)],
					Time:     base.Add(time.Duration(i%5) * time.Minute),
				}
				if err := l.Record(ctx, e); err != nil {
					return fmt.Errorf("Record: %v", err)
				}
			}
			if err := l.Close(ctx); err != nil {
				return fmt.Errorf("Close: %v", err)
			}
			got, err := s.ReadEntries(ctx, 0, 11)
			if err != nil {
				return fmt.Errorf("ReadEntries: %v", err)
			}
			want := make([]audit.Entry, len(got))
			for i, e := range got {
				if want[i], err = audit.DecodeEntry(e.Data); err != nil {
					return fmt.Errorf("entry %d: DecodeEntry: %v", i, err)
				}
			}
			if err := sameEntries("ReadEntries(0, 11)", got, want); err != nil {
				return err
			}
			if len(got) != 10 {
				return fmt.Errorf("ReadEntries(0, 11) returned %d entries, want the 10 recorded", len(got))
			}
			for _, f := range []audit.Filter{
				{ActorID: want[1].ActorID}, {Subject: want[2].Subject}, {Action: want[3].Action},
				{ResourceType: want[4].ResourceType}, {Outcome: want[5].Outcome},
				{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)},
			} {
				f.After, f.Limit = -1, 20
				if err := checkQuery(ctx, s, want, f); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Name:   "Size",
		Clause: "Size returns the number of entries in the log",
		Run: func(ctx context.Context, s audit.Store) error {
			var total int64
			for _, n := range []int{1, 4, 2, 9} {
				if _, err := fill(ctx, s, n); err != nil {
					return err
				}
				total += int64(n)
				size, err := s.Size(ctx)
				if err != nil {
					return fmt.Errorf("Size: %v", err)
				}
				if size != total {
					return fmt.Errorf("Size = %d after appending %d entries", size, total)
				}
			}
			return nil
		},
	},
	{
		Name:   "AppendEmptyBatch",
		Clause: "Append of a batch without entries or hashes succeeds and stores nothing, whatever the log's size",
		Run: func(ctx context.Context, s audit.Store) error {
			if err := s.Append(ctx, audit.Batch{}); err != nil {
				return fmt.Errorf("Append(empty batch) to an empty log: %v", err)
			}
			if err := checkLog(ctx, s, nil); err != nil {
				return err
			}
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			if err := s.Append(ctx, audit.Batch{Entries: []audit.Entry{}, Hashes: []audit.StoredHash{}}); err != nil {
				return fmt.Errorf("Append(empty batch) to a log of 3: %v", err)
			}
			return checkLog(ctx, s, want)
		},
	},
	{
		Name:   "AppendConflict",
		Clause: "an Append that does not start at the log's size, because the log grew since its batch was made, stores nothing and returns an error matching ErrConflict",
		Run: func(ctx context.Context, s audit.Store) error {
			early, err := makeBatch(ctx, s, samples(0, 2))
			if err != nil {
				return err
			}
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			// Two appenders make batches at size 3; the first one wins.
			mine, err := makeBatch(ctx, s, samples(3, 2))
			if err != nil {
				return err
			}
			theirs := samples(3, 3)
			for i := range theirs {
				theirs[i].Data = append(theirs[i].Data, " (theirs)"...)
			}
			stale, err := makeBatch(ctx, s, theirs)
			if err != nil {
				return err
			}
			if err := s.Append(ctx, mine); err != nil {
				return fmt.Errorf("Append at 3: %v", err)
			}
			want = append(want, mine.Entries...)
			if err := s.Append(ctx, stale); !errors.Is(err, audit.ErrConflict) {
				return fmt.Errorf("Append at 3 of a log of 5: error = %v, want ErrConflict", err)
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after a conflicting Append: %v", err)
			}
			if err := s.Append(ctx, early); !errors.Is(err, audit.ErrConflict) {
				return fmt.Errorf("Append at 0 of a log of 5: error = %v, want ErrConflict", err)
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after a conflicting Append: %v", err)
			}
			return nil
		},
	},
	{
		Name: "SyncStoreAppendUnsynced",
		Clause: "a store that is an audit.SyncStore stores with AppendUnsynced as with Append: in order, atomically, " +
			"refusing a stale batch with ErrConflict, readable at once; Sync succeeds, on an empty log too, and changes nothing",
		Run: func(ctx context.Context, s audit.Store) error {
			ss, ok := s.(audit.SyncStore)
			if !ok {
				return nil // the clause is about SyncStores only
			}
			if err := ss.Sync(ctx); err != nil {
				return fmt.Errorf("Sync of an empty log: %v", err)
			}
			var want []audit.Entry
			for _, n := range []int{1, 3, 2} {
				b, err := makeBatch(ctx, s, samples(int64(len(want)), n))
				if err != nil {
					return err
				}
				if err := ss.AppendUnsynced(ctx, b); err != nil {
					return fmt.Errorf("AppendUnsynced at %d: %v", len(want), err)
				}
				want = append(want, b.Entries...)
				if err := checkLog(ctx, s, want); err != nil {
					return fmt.Errorf("after AppendUnsynced, before Sync: %v", err)
				}
			}
			stale, err := makeBatch(ctx, s, samples(2, 2))
			if err != nil {
				return err
			}
			if err := ss.AppendUnsynced(ctx, stale); !errors.Is(err, audit.ErrConflict) {
				return fmt.Errorf("AppendUnsynced at 2 of a log of %d: error = %v, want ErrConflict", len(want), err)
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after a stale AppendUnsynced: %v", err)
			}
			if err := ss.Sync(ctx); err != nil {
				return fmt.Errorf("Sync: %v", err)
			}
			return checkLog(ctx, s, want)
		},
	},
	{
		Name:   "AppendPastEnd",
		Clause: "an Append whose first entry is past the end of the log (which would leave a gap) fails and stores nothing",
		Run: func(ctx context.Context, s audit.Store) error {
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			good, err := makeBatch(ctx, s, samples(3, 2))
			if err != nil {
				return err
			}
			bad := cloneBatch(good)
			for i := range bad.Entries {
				bad.Entries[i].Index++
			}
			return appendRejected(ctx, s, want, bad, good, "starting past the end of the log")
		},
	},
	{
		Name:   "AppendNonConsecutive",
		Clause: "Append is atomic: a batch whose entries are not at consecutive positions fails and stores nothing at all",
		Run: func(ctx context.Context, s audit.Store) error {
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			good, err := makeBatch(ctx, s, samples(3, 4))
			if err != nil {
				return err
			}
			gap := cloneBatch(good)
			gap.Entries[3].Index++ // 3, 4, 5, 7
			if err := appendRejected(ctx, s, want, gap, good, "with a gap between its entries"); err != nil {
				return err
			}
			want = append(want, good.Entries...)
			good, err = makeBatch(ctx, s, samples(7, 3))
			if err != nil {
				return err
			}
			repeat := cloneBatch(good)
			repeat.Entries[2].Index-- // 7, 8, 8
			return appendRejected(ctx, s, want, repeat, good, "with two entries at one position")
		},
	},
	{
		Name:   "AppendBadHashIndex",
		Clause: "Append is atomic: a batch whose hashes are not at the storage indexes that follow the stored ones fails and stores nothing at all (nor overwrites a stored hash)",
		Run: func(ctx context.Context, s audit.Store) error {
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			good, err := makeBatch(ctx, s, samples(3, 3))
			if err != nil {
				return err
			}
			overwrite := cloneBatch(good)
			overwrite.Hashes[len(overwrite.Hashes)-1].Index = 0 // rewrites the first hash of the tree
			if err := appendRejected(ctx, s, want, overwrite, good, "with a hash at a storage index already stored"); err != nil {
				return err
			}
			want = append(want, good.Entries...)
			good, err = makeBatch(ctx, s, samples(6, 3))
			if err != nil {
				return err
			}
			gap := cloneBatch(good)
			gap.Hashes[len(gap.Hashes)-1].Index++
			return appendRejected(ctx, s, want, gap, good, "with a gap between its hashes' storage indexes")
		},
	},
	{
		Name:   "ReadEntriesRanges",
		Clause: "ReadEntries(start, n) returns the entries at [start, start+n) in order; fewer at the end of the log, none from its end on",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := fill(ctx, s, 3, 3, 4)
			if err != nil {
				return err
			}
			for _, r := range []struct {
				start int64
				n     int
			}{
				{0, 10}, {0, 3}, {3, 4}, {7, 3}, {9, 1}, // whole pages
				{8, 5}, {0, 1000}, // a partial final page
				{10, 1}, {11, 3}, {1000, 5}, // from the end on
				{0, 0}, {5, 0},
			} {
				want := all[min(r.start, 10):min(r.start+int64(r.n), 10)]
				got, err := s.ReadEntries(ctx, r.start, r.n)
				if err != nil {
					return fmt.Errorf("ReadEntries(%d, %d): %v", r.start, r.n, err)
				}
				if err := sameEntries(fmt.Sprintf("ReadEntries(%d, %d)", r.start, r.n), got, want); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Name:   "DataIsCopied",
		Clause: "the caller owns the slices it passes and receives: changing a batch after Append, or the Data that ReadEntries or Query returned, does not change the store",
		Run: func(ctx context.Context, s audit.Store) error {
			b, err := makeBatch(ctx, s, samples(0, 3))
			if err != nil {
				return err
			}
			want := cloneEntries(b.Entries)
			if err := s.Append(ctx, b); err != nil {
				return fmt.Errorf("Append: %v", err)
			}
			for i := range b.Entries {
				b.Entries[i].Data[0] ^= 0xff
				b.Entries[i].Data = b.Entries[i].Data[:1]
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after changing the appended batch: %v", err)
			}
			got, err := s.ReadEntries(ctx, 0, 3)
			if err != nil {
				return fmt.Errorf("ReadEntries: %v", err)
			}
			for _, e := range got {
				e.Data[1] ^= 0xff
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after changing the Data that ReadEntries returned: %v", err)
			}
			got, err = s.Query(ctx, audit.Filter{After: -1, Limit: 3})
			if err != nil {
				return fmt.Errorf("Query: %v", err)
			}
			for _, e := range got {
				e.Data[2] ^= 0xff
			}
			if err := checkLog(ctx, s, want); err != nil {
				return fmt.Errorf("after changing the Data that Query returned: %v", err)
			}
			return nil
		},
	},
	{
		Name:   "ReadHashesOrder",
		Clause: "ReadHashes returns the hashes at the storage indexes asked for, in the order asked, repeats included; asked for none, it returns none",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := fill(ctx, s, 2, 4)
			if err != nil {
				return err
			}
			hashes, err := treeHashes(all)
			if err != nil {
				return err
			}
			last := int64(len(hashes) - 1)
			indexes := []int64{last, 0, 5, 5, 1, last, 3, 0}
			got, err := s.ReadHashes(ctx, indexes)
			if err != nil {
				return fmt.Errorf("ReadHashes(%v): %v", indexes, err)
			}
			want := make([]tlog.Hash, len(indexes))
			for i, x := range indexes {
				want[i] = hashes[x]
			}
			if err := sameHashes(indexes, got, want); err != nil {
				return err
			}
			got, err = s.ReadHashes(ctx, []int64{})
			if err != nil || len(got) != 0 {
				return fmt.Errorf("ReadHashes([]) = %d hashes, error %v; want none and no error (tlog asks for none when hashing record 0)", len(got), err)
			}
			return nil
		},
	},
	{
		Name:   "ReadHashesNotStored",
		Clause: "ReadHashes of a storage index that was never stored fails with an error matching ErrNotFound",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := s.ReadHashes(ctx, []int64{0}); !errors.Is(err, audit.ErrNotFound) {
				return fmt.Errorf("ReadHashes([0]) on an empty log: error = %v, want ErrNotFound", err)
			}
			all, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			next := tlog.StoredHashIndex(0, int64(len(all)))
			for _, indexes := range [][]int64{{next}, {0, 1, next + 100}, {-1}, {2, -5, 1}} {
				if _, err := s.ReadHashes(ctx, indexes); !errors.Is(err, audit.ErrNotFound) {
					return fmt.Errorf("ReadHashes(%v) with %d hashes stored: error = %v, want ErrNotFound", indexes, next, err)
				}
			}
			return nil
		},
	},
	{
		Name:   "QueryEachField",
		Clause: "Query with one Filter field set returns the entries whose column equals it, byte for byte, in ascending Index order",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := queryLog(ctx, s)
			if err != nil {
				return err
			}
			var filters []audit.Filter
			for _, field := range []struct {
				values []string
				set    func(f *audit.Filter, v string)
			}{
				{actions, func(f *audit.Filter, v string) { f.Action = v }},
				{actors, func(f *audit.Filter, v string) { f.ActorID = v }},
				{subjects, func(f *audit.Filter, v string) { f.Subject = v }},
				{rtypes, func(f *audit.Filter, v string) { f.ResourceType = v }},
				{rids, func(f *audit.Filter, v string) { f.ResourceID = v }},
				{[]string{string(audit.Success), string(audit.Denied), string(audit.Failure)}, func(f *audit.Filter, v string) { f.Outcome = audit.Outcome(v) }},
			} {
				for _, v := range append(field.values, "absent", "read ") {
					if v == "" { // the zero value filters nothing
						continue
					}
					f := audit.Filter{After: -1, Limit: 1000}
					field.set(&f, v)
					filters = append(filters, f)
				}
			}
			for _, f := range filters {
				if err := checkQuery(ctx, s, all, f); err != nil {
					return err
				}
			}
			return checkQuery(ctx, s, all, audit.Filter{After: -1, Limit: 1000})
		},
	},
	{
		Name:   "QueryCombined",
		Clause: "Query with several Filter fields set returns the entries that match all of them",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := queryLog(ctx, s)
			if err != nil {
				return err
			}
			for _, e := range []audit.Entry{all[3], all[17], all[30]} {
				for _, f := range []audit.Filter{
					{Action: e.Action, Outcome: e.Outcome},
					{ActorID: e.ActorID, Subject: e.Subject},
					{ResourceType: e.ResourceType, ResourceID: e.ResourceID},
					{Subject: e.Subject, From: e.Time, To: e.Time.Add(10 * time.Minute)},
					{Action: e.Action, ActorID: e.ActorID, ResourceType: e.ResourceType, Outcome: audit.Failure},
					{
						From: e.Time, To: e.Time.Add(time.Microsecond), Action: e.Action, ActorID: e.ActorID, Subject: e.Subject,
						ResourceType: e.ResourceType, ResourceID: e.ResourceID, Outcome: e.Outcome,
					},
				} {
					f.After, f.Limit = -1, 1000
					if err := checkQuery(ctx, s, all, f); err != nil {
						return err
					}
				}
			}
			return nil
		},
	},
	{
		Name:   "QueryTimeBounds",
		Clause: "Query keeps the entries with From <= Time < To (From inclusive, To exclusive), comparing instants to the nanosecond, whatever the bounds' time zone",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := queryLog(ctx, s)
			if err != nil {
				return err
			}
			from, to := all[5].Time, all[11].Time
			if to.Before(from) {
				from, to = to, from
			}
			sast := time.FixedZone("SAST", 2*60*60)
			for _, f := range []audit.Filter{
				{From: from},
				{To: to},
				{From: from, To: to},
				{From: from.In(sast), To: to.In(sast)},
				{From: from.Add(time.Nanosecond), To: to.Add(time.Nanosecond)},
				{From: from.Add(-time.Nanosecond), To: to.Add(-time.Nanosecond)},
				{From: from, To: from},
				{From: to, To: from},
				{From: base.Add(-time.Hour), To: base.Add(time.Hour)},
				{From: base.Add(time.Hour)},
				{To: base},
			} {
				f.After, f.Limit = -1, 1000
				if err := checkQuery(ctx, s, all, f); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Name:   "QueryPaging",
		Clause: "Query returns the first Limit matching entries of Index > After (no bound when After < 0), so that After and Limit page through the matches",
		Run: func(ctx context.Context, s audit.Store) error {
			all, err := queryLog(ctx, s)
			if err != nil {
				return err
			}
			for _, f := range []audit.Filter{
				{After: -1, Limit: 1}, {After: -1, Limit: 5}, {After: -1, Limit: 40}, {After: -1, Limit: 1 << 30},
				{After: -7, Limit: 1000}, {After: 0, Limit: 1000}, {After: 20, Limit: 3},
				{After: 38, Limit: 10}, {After: 39, Limit: 10}, {After: 1000, Limit: 10},
				{After: 10, Limit: 2, ResourceType: "patient"},
			} {
				if err := checkQuery(ctx, s, all, f); err != nil {
					return err
				}
			}
			// Page through one filter's matches, 3 at a time.
			f := audit.Filter{Outcome: audit.Success, After: -1, Limit: 3}
			var got []audit.Entry
			for pages := 0; ; pages++ {
				if pages > len(all) {
					return fmt.Errorf("paging with Query does not end: got %v so far", indexesOf(got))
				}
				page, err := s.Query(ctx, f)
				if err != nil {
					return fmt.Errorf("Query(%s): %v", describe(f), err)
				}
				if err := sameEntries(fmt.Sprintf("Query(%s)", describe(f)), page, expect(all, f)); err != nil {
					return err
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				f.After = page[len(page)-1].Index
			}
			return sameEntries("Query, 3 at a time", got, expect(all, audit.Filter{Outcome: audit.Success, After: -1, Limit: 1000}))
		},
	},
	{
		Name:   "QueryLimitNotPositive",
		Clause: "Query with a Limit of zero or less is an error",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := fill(ctx, s, 2); err != nil {
				return err
			}
			for _, limit := range []int{0, -1} {
				if got, err := s.Query(ctx, audit.Filter{After: -1, Limit: limit}); err == nil {
					return fmt.Errorf("Query with Limit %d succeeded, returning %d entries", limit, len(got))
				}
			}
			return nil
		},
	},
	{
		Name:   "Checkpoints",
		Clause: "Checkpoints returns the checkpoints of size at least minSize, in ascending order of size, at most limit of them; LatestCheckpoint returns the largest; both return them unchanged",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := fill(ctx, s, 4, 5); err != nil {
				return err
			}
			c := map[int64]audit.Checkpoint{}
			for _, size := range []int64{4, 1, 9, 6} {
				var err error
				if c[size], err = checkpoint(ctx, s, size); err != nil {
					return err
				}
				if err := s.AddCheckpoint(ctx, c[size]); err != nil {
					return fmt.Errorf("AddCheckpoint(size %d): %v", size, err)
				}
			}
			for _, r := range []struct {
				minSize int64
				limit   int
				want    []int64
			}{
				{0, 100, []int64{1, 4, 6, 9}}, {1, 100, []int64{1, 4, 6, 9}}, {2, 100, []int64{4, 6, 9}},
				{4, 100, []int64{4, 6, 9}}, {5, 2, []int64{6, 9}}, {5, 1, []int64{6}}, {0, 3, []int64{1, 4, 6}},
				{9, 100, []int64{9}}, {10, 100, nil},
			} {
				var want []audit.Checkpoint
				for _, size := range r.want {
					want = append(want, c[size])
				}
				if err := checkCheckpoints(ctx, s, r.minSize, r.limit, want...); err != nil {
					return err
				}
			}
			return checkLatest(ctx, s, c[9])
		},
	},
	{
		Name:   "AddCheckpointKeepsFirst",
		Clause: "AddCheckpoint of a size already recorded is a no-op that keeps the first checkpoint of that size",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := fill(ctx, s, 5); err != nil {
				return err
			}
			first, err := checkpoint(ctx, s, 3)
			if err != nil {
				return err
			}
			if err := s.AddCheckpoint(ctx, first); err != nil {
				return fmt.Errorf("AddCheckpoint: %v", err)
			}
			// Another process signs the same tree later.
			again := first
			again.Time = first.Time.Add(time.Minute)
			again.Note = append(slices.Clone(first.Note), "— other.example/audit Zm9v\n"...)
			if err := s.AddCheckpoint(ctx, again); err != nil {
				return fmt.Errorf("AddCheckpoint of a size already recorded: %v, want a no-op", err)
			}
			if err := checkCheckpoints(ctx, s, 0, 10, first); err != nil {
				return err
			}
			if err := checkLatest(ctx, s, first); err != nil {
				return err
			}
			larger, err := checkpoint(ctx, s, 5)
			if err != nil {
				return err
			}
			if err := s.AddCheckpoint(ctx, larger); err != nil {
				return fmt.Errorf("AddCheckpoint: %v", err)
			}
			if err := s.AddCheckpoint(ctx, again); err != nil {
				return fmt.Errorf("AddCheckpoint of a size already recorded, below the latest: %v, want a no-op", err)
			}
			if err := checkCheckpoints(ctx, s, 0, 10, first, larger); err != nil {
				return err
			}
			return checkLatest(ctx, s, larger)
		},
	},
	{
		Name:   "LatestCheckpointEmpty",
		Clause: "LatestCheckpoint fails with an error matching ErrNotFound when no checkpoint is recorded, even if the log has entries",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := s.LatestCheckpoint(ctx); !errors.Is(err, audit.ErrNotFound) {
				return fmt.Errorf("LatestCheckpoint on an empty store: error = %v, want ErrNotFound", err)
			}
			if _, err := fill(ctx, s, 2); err != nil {
				return err
			}
			if _, err := s.LatestCheckpoint(ctx); !errors.Is(err, audit.ErrNotFound) {
				return fmt.Errorf("LatestCheckpoint without checkpoints: error = %v, want ErrNotFound", err)
			}
			return nil
		},
	},
	{
		Name:   "NoteIsCopied",
		Clause: "the caller owns the Note it passes and receives: changing it later does not change the store",
		Run: func(ctx context.Context, s audit.Store) error {
			if _, err := fill(ctx, s, 2); err != nil {
				return err
			}
			c, err := checkpoint(ctx, s, 2)
			if err != nil {
				return err
			}
			want := c
			want.Note = slices.Clone(c.Note)
			if err := s.AddCheckpoint(ctx, c); err != nil {
				return fmt.Errorf("AddCheckpoint: %v", err)
			}
			c.Note[0] ^= 0xff
			got, err := s.LatestCheckpoint(ctx)
			if err != nil {
				return fmt.Errorf("LatestCheckpoint: %v", err)
			}
			if err := sameCheckpoint(got, want); err != nil {
				return fmt.Errorf("LatestCheckpoint, after changing the Note given to AddCheckpoint: %v", err)
			}
			got.Note[1] ^= 0xff
			list, err := s.Checkpoints(ctx, 0, 1)
			if err != nil {
				return fmt.Errorf("Checkpoints: %v", err)
			}
			if len(list) == 1 {
				list[0].Note[2] ^= 0xff
			}
			if err := checkCheckpoints(ctx, s, 0, 1, want); err != nil {
				return fmt.Errorf("after changing the Notes returned: %v", err)
			}
			return checkLatest(ctx, s, want)
		},
	},
	{
		Name:   "ConcurrentAppends",
		Clause: "appenders that retry on ErrConflict (re-reading Size) end with a total order: every entry exactly once at consecutive positions, each batch whole, with the tree hashes of that order",
		Run: func(ctx context.Context, s audit.Store) error {
			const writers, batches = 8, 6
			// before maps each entry's Data to that of the entry that must
			// precede it in the log, or to "" if it starts its batch.
			before := map[string]string{}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for w := range writers {
				var batchData [][][]byte
				for b := range batches {
					var data [][]byte
					for j := range 1 + (w+b)%3 {
						d := fmt.Appendf(nil, "writer %d batch %d entry %d", w, b, j)
						before[string(d)] = ""
						if j > 0 {
							before[string(d)] = string(data[j-1])
						}
						data = append(data, d)
					}
					batchData = append(batchData, data)
				}
				wg.Go(func() {
					for _, data := range batchData {
						if errs[w] = appendWithRetry(ctx, s, data); errs[w] != nil {
							return
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
			got, err := s.ReadEntries(ctx, 0, len(before)+1)
			if err != nil {
				return fmt.Errorf("ReadEntries: %v", err)
			}
			if len(got) != len(before) {
				return fmt.Errorf("ReadEntries after %d entries were appended concurrently returned %d", len(before), len(got))
			}
			seen := map[string]bool{}
			for i, e := range got {
				d := string(e.Data)
				prev, ok := before[d]
				switch {
				case e.Index != int64(i):
					return fmt.Errorf("ReadEntries: entry %d has Index %d", i, e.Index)
				case !ok:
					return fmt.Errorf("entry %d holds %.60q, which no appender appended", i, d)
				case seen[d]:
					return fmt.Errorf("entry %d, %q, is in the log twice", i, d)
				case prev != "" && (i == 0 || string(got[i-1].Data) != prev):
					return fmt.Errorf("entry %d, %q, does not follow %q, its predecessor in its batch", i, d, prev)
				}
				seen[d] = true
			}
			return checkLog(ctx, s, got)
		},
	},
	{
		Name:   "CanceledContext",
		Clause: "every method called with a canceled context fails with an error matching ctx.Err(), and changes nothing",
		Run: func(ctx context.Context, s audit.Store) error {
			want, err := fill(ctx, s, 3)
			if err != nil {
				return err
			}
			c3, err := checkpoint(ctx, s, 3)
			if err != nil {
				return err
			}
			if err := s.AddCheckpoint(ctx, c3); err != nil {
				return fmt.Errorf("AddCheckpoint: %v", err)
			}
			b, err := makeBatch(ctx, s, samples(3, 2))
			if err != nil {
				return err
			}
			c2, err := checkpoint(ctx, s, 2)
			if err != nil {
				return err
			}
			everything := audit.Filter{After: -1, Limit: 10}
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			var errs []error
			for _, call := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"Append", func(ctx context.Context) error { return s.Append(ctx, b) }},
				{"Size", func(ctx context.Context) error { _, err := s.Size(ctx); return err }},
				{"ReadEntries", func(ctx context.Context) error { _, err := s.ReadEntries(ctx, 0, 3); return err }},
				{"ReadHashes", func(ctx context.Context) error { _, err := s.ReadHashes(ctx, []int64{0, 1}); return err }},
				{"Query", func(ctx context.Context) error { _, err := s.Query(ctx, everything); return err }},
				{"AddCheckpoint", func(ctx context.Context) error { return s.AddCheckpoint(ctx, c2) }},
				{"Checkpoints", func(ctx context.Context) error { _, err := s.Checkpoints(ctx, 0, 10); return err }},
				{"LatestCheckpoint", func(ctx context.Context) error { _, err := s.LatestCheckpoint(ctx); return err }},
			} {
				if err := call.call(canceled); !errors.Is(err, canceled.Err()) {
					errs = append(errs, fmt.Errorf("%s with a canceled context: error = %v, want one matching %v", call.name, err, canceled.Err()))
				}
			}
			if err := checkLog(ctx, s, want); err != nil {
				errs = append(errs, fmt.Errorf("after an Append with a canceled context: %v", err))
			}
			if err := checkCheckpoints(ctx, s, 0, 10, c3); err != nil {
				errs = append(errs, fmt.Errorf("after an AddCheckpoint with a canceled context: %v", err))
			}
			return errors.Join(errs...)
		},
	},
}

// appendWithRetry appends entries holding data at the end of the log the
// way a Logger does: it reads the size, makes the batch for it, and starts
// again when another appender got there first.
func appendWithRetry(ctx context.Context, s audit.Store, data [][]byte) error {
	for conflicts := 0; conflicts < 1000; conflicts++ {
		size, err := s.Size(ctx)
		if err != nil {
			return fmt.Errorf("Size: %v", err)
		}
		entries := samples(size, len(data))
		for i := range entries {
			entries[i].Data = data[i]
		}
		b, err := makeBatch(ctx, s, entries)
		if err != nil {
			return err
		}
		if err := s.Append(ctx, b); !errors.Is(err, audit.ErrConflict) {
			if err != nil {
				return fmt.Errorf("Append(%d entries at %d): %v", len(entries), size, err)
			}
			return nil
		}
	}
	return fmt.Errorf("Append of %q conflicted 1000 times", data[0])
}
