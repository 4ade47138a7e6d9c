// Package piitest checks that a [pii.KeyStore] implementation keeps the
// contract the [pii.Keyring] relies on. A host that writes its own key store
// runs the whole suite from one test:
//
//	func TestKeyStoreConformance(t *testing.T) {
//		piitest.Run(t, func(t *testing.T) pii.KeyStore {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library. Each case runs as a subtest with
// a stable name, on a fresh store made by newStore.
package piitest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/conformance"
	"github.com/dataward/dataward/pii"
)

// A test case: the contract clause it checks, and the check.
type testCase = conformance.Case[pii.KeyStore]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it).
func Run(t *testing.T, newStore func(t *testing.T) pii.KeyStore) {
	t.Helper()
	conformance.Run(t, cases, newStore)
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func record(subject string, id uint32) pii.KeyRecord {
	return pii.KeyRecord{
		Subject: dataward.SubjectID(subject),
		KeyID:   id,
		Wrapped: []byte(fmt.Sprintf("wrapped\x00key\xff-%s-%d", subject, id)),
		Created: base,
	}
}

func sameRecord(got, want pii.KeyRecord) error {
	switch {
	case got.Subject != want.Subject:
		return fmt.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	case got.KeyID != want.KeyID:
		return fmt.Errorf("KeyID = %d, want %d", got.KeyID, want.KeyID)
	case !bytes.Equal(got.Wrapped, want.Wrapped):
		return fmt.Errorf("Wrapped = %x, want %x", got.Wrapped, want.Wrapped)
	case !got.Created.Equal(want.Created):
		return fmt.Errorf("Created = %v, want %v", got.Created, want.Created)
	case !got.Shredded.Equal(want.Shredded):
		return fmt.Errorf("Shredded = %v, want %v", got.Shredded, want.Shredded)
	}
	return nil
}

func mustCreate(ctx context.Context, s pii.KeyStore, rec pii.KeyRecord) error {
	got, err := s.Create(ctx, rec)
	if err != nil {
		return fmt.Errorf("Create(%q): %v", rec.Subject, err)
	}
	if err := sameRecord(got, rec); err != nil {
		return fmt.Errorf("Create(%q) on an empty store returned another record: %v", rec.Subject, err)
	}
	return nil
}

var cases = []testCase{
	{
		Name:   "GetMissing",
		Clause: "Get returns ErrKeyNotFound when the store holds no record for the subject",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			_, err := s.Get(ctx, "nobody")
			if !errors.Is(err, pii.ErrKeyNotFound) {
				return fmt.Errorf("Get(missing) error = %v, want ErrKeyNotFound", err)
			}
			return nil
		},
	},
	{
		Name:   "CreateThenGet",
		Clause: "Create stores the record; Get returns it unchanged, byte for byte",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			recs := []pii.KeyRecord{record("alice", 1), record("bob", 0xffffffff), record("ünïcødé/ключ", 7)}
			recs[1].Wrapped = bytes.Repeat([]byte{0, 0xff}, 100)
			for _, rec := range recs {
				if err := mustCreate(ctx, s, rec); err != nil {
					return err
				}
			}
			for _, rec := range recs {
				got, err := s.Get(ctx, rec.Subject)
				if err != nil {
					return fmt.Errorf("Get(%q): %v", rec.Subject, err)
				}
				if err := sameRecord(got, rec); err != nil {
					return fmt.Errorf("Get(%q): %v", rec.Subject, err)
				}
			}
			return nil
		},
	},
	{
		Name:   "CreateKeepsFirst",
		Clause: "Create of a subject that already has a record stores nothing and returns the earlier record",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			first := record("alice", 1)
			if err := mustCreate(ctx, s, first); err != nil {
				return err
			}
			got, err := s.Create(ctx, record("alice", 2))
			if err != nil {
				return fmt.Errorf("second Create: %v", err)
			}
			if err := sameRecord(got, first); err != nil {
				return fmt.Errorf("second Create returned: %v", err)
			}
			got, err = s.Get(ctx, "alice")
			if err != nil {
				return fmt.Errorf("Get: %v", err)
			}
			return sameRecord(got, first)
		},
	},
	{
		Name:   "ReturnedRecordsAreCopies",
		Clause: "the caller owns the slices it passes and receives: changing them later does not change the store",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			rec := record("alice", 1)
			want := record("alice", 1)
			if _, err := s.Create(ctx, rec); err != nil {
				return fmt.Errorf("Create: %v", err)
			}
			rec.Wrapped[0] ^= 0xff
			got, err := s.Get(ctx, "alice")
			if err != nil {
				return fmt.Errorf("Get: %v", err)
			}
			got.Wrapped[1] ^= 0xff
			got, err = s.Get(ctx, "alice")
			if err != nil {
				return fmt.Errorf("Get: %v", err)
			}
			return sameRecord(got, want)
		},
	},
	{
		Name:   "ConcurrentCreate",
		Clause: "concurrent Create calls for one subject all return the same record",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			const n = 16
			got := make([]pii.KeyRecord, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i], errs[i] = s.Create(ctx, record("racer", uint32(i+1))) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("concurrent Create: %v", err)
			}
			for i := 1; i < n; i++ {
				if err := sameRecord(got[i], got[0]); err != nil {
					return fmt.Errorf("two concurrent creators got different records: %v", err)
				}
			}
			stored, err := s.Get(ctx, "racer")
			if err != nil {
				return fmt.Errorf("Get: %v", err)
			}
			return sameRecord(stored, got[0])
		},
	},
	{
		Name:   "ShredDestroysKey",
		Clause: "Shred removes the wrapped key and records when; Get then returns the tombstone",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			if err := mustCreate(ctx, s, record("alice", 9)); err != nil {
				return err
			}
			at := base.Add(time.Hour)
			tomb, err := s.Shred(ctx, "alice", at)
			if err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			want := pii.KeyRecord{Subject: "alice", KeyID: 9, Created: base, Shredded: at}
			if err := sameRecord(tomb, want); err != nil {
				return fmt.Errorf("Shred returned: %v", err)
			}
			got, err := s.Get(ctx, "alice")
			if err != nil {
				return fmt.Errorf("Get after Shred: %v", err)
			}
			if len(got.Wrapped) != 0 {
				return fmt.Errorf("Get after Shred still returns the wrapped key")
			}
			return sameRecord(got, want)
		},
	},
	{
		Name:   "ShredIsIdempotent",
		Clause: "Shred of a shredded subject changes nothing and returns the first tombstone",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			if err := mustCreate(ctx, s, record("alice", 9)); err != nil {
				return err
			}
			first, err := s.Shred(ctx, "alice", base.Add(time.Hour))
			if err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			again, err := s.Shred(ctx, "alice", base.Add(2*time.Hour))
			if err != nil {
				return fmt.Errorf("second Shred: %v", err)
			}
			return sameRecord(again, first)
		},
	},
	{
		Name:   "ShredUnknownSubject",
		Clause: "Shred of a subject without a record stores a tombstone with KeyID 0",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			at := base.Add(time.Minute)
			tomb, err := s.Shred(ctx, "ghost", at)
			if err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			want := pii.KeyRecord{Subject: "ghost", Shredded: at}
			if err := sameRecord(tomb, want); err != nil {
				return fmt.Errorf("Shred returned: %v", err)
			}
			got, err := s.Get(ctx, "ghost")
			if err != nil {
				return fmt.Errorf("Get after Shred: %v", err)
			}
			return sameRecord(got, want)
		},
	},
	{
		Name:   "CreateAfterShred",
		Clause: "Create after Shred stores nothing and returns the tombstone: a shredded subject never gets a new key",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			at := base.Add(time.Minute)
			if _, err := s.Shred(ctx, "ghost", at); err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			got, err := s.Create(ctx, record("ghost", 3))
			if err != nil {
				return fmt.Errorf("Create after Shred: %v", err)
			}
			if !got.IsShredded() || len(got.Wrapped) != 0 {
				return fmt.Errorf("Create after Shred returned a live key (KeyID %d)", got.KeyID)
			}
			got, err = s.Get(ctx, "ghost")
			if err != nil {
				return fmt.Errorf("Get: %v", err)
			}
			return sameRecord(got, pii.KeyRecord{Subject: "ghost", Shredded: at})
		},
	},
	{
		Name:   "ShredLeavesOthers",
		Clause: "Shred touches only its own subject",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			for _, subj := range []string{"a", "b", "c"} {
				if err := mustCreate(ctx, s, record(subj, 1)); err != nil {
					return err
				}
			}
			if _, err := s.Shred(ctx, "b", base); err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			for _, subj := range []string{"a", "c"} {
				got, err := s.Get(ctx, dataward.SubjectID(subj))
				if err != nil {
					return fmt.Errorf("Get(%q): %v", subj, err)
				}
				if err := sameRecord(got, record(subj, 1)); err != nil {
					return fmt.Errorf("Get(%q) after shredding another subject: %v", subj, err)
				}
			}
			return nil
		},
	},
	{
		Name:   "ListOrderAndPaging",
		Clause: "List returns live records after the cursor in ascending byte order, at most limit at a time, skipping shredded ones",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			// Byte order, not a locale's: "B" < "a" < "b" < "é".
			subjects := []string{"é", "b", "a", "B", "a0", "z", "Z9", "m", "shredded"}
			for i, subj := range subjects {
				if err := mustCreate(ctx, s, record(subj, uint32(i+1))); err != nil {
					return err
				}
			}
			if _, err := s.Shred(ctx, "shredded", base); err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			if _, err := s.Shred(ctx, "tombstone-only", base); err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			want := []string{"B", "Z9", "a", "a0", "b", "m", "z", "é"}
			var got []string
			var after dataward.SubjectID
			for pages := 0; ; pages++ {
				if pages > len(want) {
					return fmt.Errorf("List does not advance: got %q so far", got)
				}
				page, err := s.List(ctx, after, 3)
				if err != nil {
					return fmt.Errorf("List(%q, 3): %v", after, err)
				}
				if len(page) > 3 {
					return fmt.Errorf("List(%q, 3) returned %d records", after, len(page))
				}
				if len(page) == 0 {
					break
				}
				for _, rec := range page {
					got = append(got, string(rec.Subject))
					if len(rec.Wrapped) == 0 || rec.IsShredded() {
						return fmt.Errorf("List returned a shredded record for %q", rec.Subject)
					}
				}
				after = page[len(page)-1].Subject
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("List pages = %q, want %q", got, want)
			}
			page, err := s.List(ctx, "a", 2)
			if err != nil {
				return fmt.Errorf("List(\"a\", 2): %v", err)
			}
			if len(page) != 2 || page[0].Subject != "a0" || page[1].Subject != "b" {
				return fmt.Errorf("List(\"a\", 2) = %v, want [a0 b]: the cursor itself is excluded", subjectsOf(page))
			}
			return nil
		},
	},
	{
		Name:   "ListEmpty",
		Clause: "List on an empty store returns no records and no error",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			page, err := s.List(ctx, "", 10)
			if err != nil {
				return fmt.Errorf("List: %v", err)
			}
			if len(page) != 0 {
				return fmt.Errorf("List on an empty store = %v", subjectsOf(page))
			}
			return nil
		},
	},
	{
		Name:   "ReplaceIsConditional",
		Clause: "Replace swaps a wrapped key only if it still equals Old and the subject is live; it never revives a shredded key",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			for _, subj := range []string{"a", "b", "c"} {
				if err := mustCreate(ctx, s, record(subj, 1)); err != nil {
					return err
				}
			}
			if _, err := s.Shred(ctx, "c", base); err != nil {
				return fmt.Errorf("Shred: %v", err)
			}
			n, err := s.Replace(ctx, []pii.Replacement{
				{Subject: "a", Old: record("a", 1).Wrapped, New: []byte("new-a")},
				{Subject: "b", Old: []byte("stale"), New: []byte("new-b")},
				{Subject: "c", Old: record("c", 1).Wrapped, New: []byte("new-c")},
				{Subject: "missing", Old: []byte("x"), New: []byte("new-x")},
			})
			if err != nil {
				return fmt.Errorf("Replace: %v", err)
			}
			if n != 1 {
				return fmt.Errorf("Replace replaced %d records, want 1", n)
			}
			want := map[dataward.SubjectID][]byte{"a": []byte("new-a"), "b": record("b", 1).Wrapped, "c": nil}
			for subj, w := range want {
				got, err := s.Get(ctx, subj)
				if err != nil {
					return fmt.Errorf("Get(%q): %v", subj, err)
				}
				if !bytes.Equal(got.Wrapped, w) {
					return fmt.Errorf("Get(%q).Wrapped = %q, want %q", subj, got.Wrapped, w)
				}
				if got.KeyID != 1 || !got.Created.Equal(base) {
					return fmt.Errorf("Replace changed more than the wrapped key of %q", subj)
				}
			}
			if _, err := s.Get(ctx, "missing"); !errors.Is(err, pii.ErrKeyNotFound) {
				return fmt.Errorf("Replace created a record for a missing subject (Get error = %v)", err)
			}
			return nil
		},
	},
	{
		Name:   "ReplaceEmpty",
		Clause: "Replace with no replacements does nothing",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			n, err := s.Replace(ctx, nil)
			if err != nil || n != 0 {
				return fmt.Errorf("Replace(nil) = %d, %v; want 0, nil", n, err)
			}
			return nil
		},
	},
	{
		Name:   "CanceledContext",
		Clause: "a call with a canceled context fails and changes nothing",
		Run: func(ctx context.Context, s pii.KeyStore) error {
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Create(canceled, record("alice", 1)); err == nil {
				return errors.New("Create with a canceled context succeeded")
			}
			if _, err := s.Get(ctx, "alice"); !errors.Is(err, pii.ErrKeyNotFound) {
				return fmt.Errorf("a Create with a canceled context stored a record (Get error = %v)", err)
			}
			return nil
		},
	},
}

func subjectsOf(recs []pii.KeyRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Subject)
	}
	return out
}
