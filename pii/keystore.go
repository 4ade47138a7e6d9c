package pii

import (
	"context"
	"time"

	"github.com/dataward/dataward"
)

// KeyRecord is what a [KeyStore] keeps for one data subject: the subject's
// data key (DEK), wrapped by the master key (KEK), or, once shredded, a
// tombstone that records when the key was destroyed and holds no key
// material.
type KeyRecord struct {
	Subject dataward.SubjectID
	// KeyID identifies the data key. It is carried in every value sealed
	// with the key and is never zero for a created key.
	KeyID uint32
	// Wrapped is the data key encrypted by the master key, bound to Subject
	// and KeyID. It is nil once the key is shredded.
	Wrapped []byte
	// Created is when the key was created. Zero for a tombstone of a
	// subject that never had a key.
	Created time.Time
	// Shredded is when the key was destroyed; zero while it is live.
	Shredded time.Time
}

// IsShredded reports whether r is a tombstone.
func (r KeyRecord) IsShredded() bool { return !r.Shredded.IsZero() }

// Replacement asks [KeyStore.Replace] to swap one subject's wrapped key.
type Replacement struct {
	Subject dataward.SubjectID
	Old     []byte // the wrapped key the caller read
	New     []byte // the same data key, wrapped again
}

// KeyStore keeps the wrapped data keys of data subjects. The host
// implements it, or uses the memory one ([NewMemKeyStore]) or the SQL one in
// package sqlstore. A KeyStore stays thin: the [Keyring] validates input,
// wraps and unwraps keys, and caches.
//
// Implementations must be safe for concurrent use, and where several
// processes share one store (a database), the guarantees below hold across
// processes. Run the conformance suite in package piitest against an
// implementation to check it.
//
// Times are stored with at least microsecond precision.
type KeyStore interface {
	// Get returns the record of subject, live or shredded.
	// Returns ErrKeyNotFound if the store holds no record for subject.
	Get(ctx context.Context, subject dataward.SubjectID) (KeyRecord, error)

	// Create stores rec unless the store already holds a record for
	// rec.Subject, live or shredded, and returns the record the store holds
	// afterwards: rec if it was stored, the earlier record otherwise.
	// Concurrent calls for one subject, from any number of processes, all
	// return the same record.
	Create(ctx context.Context, rec KeyRecord) (KeyRecord, error)

	// Shred destroys the wrapped key of subject, recording at as the time
	// it was destroyed, and returns the tombstone. If the subject has no
	// record, it stores a tombstone (KeyID 0) so that no key can be created
	// for it later. If the subject is already shredded it changes nothing
	// and returns the existing tombstone. The destroyed key must not stay
	// readable through the store.
	Shred(ctx context.Context, subject dataward.SubjectID, at time.Time) (KeyRecord, error)

	// List returns at most limit live (not shredded) records whose Subject
	// sorts after the cursor after, in ascending byte order of Subject.
	// An empty after starts at the beginning.
	List(ctx context.Context, after dataward.SubjectID, limit int) ([]KeyRecord, error)

	// Replace sets, for each replacement whose subject is live and whose
	// current wrapped key equals Old byte for byte, the wrapped key to New,
	// and returns how many it replaced. A replacement whose subject is
	// missing, shredded or changed is skipped: Replace never brings a
	// shredded key back.
	Replace(ctx context.Context, rs []Replacement) (int, error)
}
