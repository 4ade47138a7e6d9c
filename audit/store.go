package audit

import (
	"context"
	"errors"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Entry is one event as stored: its position in the log, its canonical
// encoding (what the Merkle tree commits to), and the columns a store keeps
// for queries, copied from the encoded record. No column holds clear
// personal data: values classified Sensitive or Secret appear in their
// protected form.
type Entry struct {
	Index int64  // position in the log, from 0
	Data  []byte // the canonical encoding of the stored record

	Time         time.Time // UTC, to the microsecond
	Action       string
	Class        string
	ActorID      string // as stored (public, or a keyed hash)
	Subject      string // the subject's keyed hash, or ""
	ResourceType string
	ResourceID   string // as stored
	Outcome      Outcome
}

// StoredHash is one hash of the Merkle tree, at its tlog storage index
// (see tlog.StoredHashIndex).
type StoredHash struct {
	Index int64
	Hash  tlog.Hash
}

// Batch is what one call to [Store.Append] adds: entries at consecutive
// positions, starting at the log's current size, and the tree hashes that
// tlog.StoredHashes computed for them, in storage order.
type Batch struct {
	Entries []Entry
	Hashes  []StoredHash
	// FromData is set when every entry's columns are those its Data
	// encodes ([Entry.FromData] holds for each), as in every batch a
	// [Logger] appends. A store may then keep Data alone, and recover the
	// columns with [DecodeEntry], without checking each entry. (Were it
	// set wrongly, such a store would return the columns that Data, which
	// the tree commits to, encodes.)
	FromData bool
}

// Checkpoint is a signed statement of the log's size and root hash, in the
// C2SP checkpoint format signed with golang.org/x/mod/sumdb/note.
type Checkpoint struct {
	Size int64     // the number of entries it covers
	Root tlog.Hash // the Merkle tree hash of those entries
	Time time.Time // when it was signed (UTC, to the microsecond)
	Note []byte    // the signed note: the checkpoint text and its signatures
}

// Filter selects entries for [Store.Query]. Zero fields match everything.
type Filter struct {
	From, To     time.Time // From <= Time < To
	Action       string
	ActorID      string // as stored
	Subject      string // the subject's keyed hash
	ResourceType string
	ResourceID   string // as stored
	Outcome      Outcome
	After        int64 // only entries with Index > After: -1 (or less) for no bound, 0 skips the first entry
	Limit        int   // at most this many; must be positive
}

// Store keeps the log. The [Logger] does the work (encoding, hashing,
// signing, verifying); a Store keeps what it is given, in order, and must
// never change or drop it.
//
// Implementations: [NewMemStore], the SQL store of package sqlstore, or the
// host's own, checked with audittest.Run.
type Store interface {
	// Append stores b atomically: all of its entries and hashes, or, on
	// error, none. b.Entries[0].Index must equal the log's size when the
	// append takes effect; if another appender got there first, Append
	// stores nothing and returns an error matching ErrConflict. Several
	// processes may share a store: the order of the log is total, without
	// gaps or forks. The Logger reuses b's memory (the slices, and each
	// entry's Data) once Append returns: a store copies what it keeps.
	Append(ctx context.Context, b Batch) error

	// Size returns the number of entries in the log.
	Size(ctx context.Context) (int64, error)

	// ReadEntries returns the entries at positions [start, start+n), in
	// order; fewer at the end of the log.
	ReadEntries(ctx context.Context, start int64, n int) ([]Entry, error)

	// ReadHashes returns the stored hashes at the given storage indexes, in
	// the same order. An index that was never stored is an error.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)

	// Query returns the entries that match f, in ascending Index order,
	// at most f.Limit of them.
	Query(ctx context.Context, f Filter) ([]Entry, error)

	// AddCheckpoint records a signed checkpoint. Adding one of a size that
	// is already recorded is a no-op.
	AddCheckpoint(ctx context.Context, c Checkpoint) error

	// Checkpoints returns the recorded checkpoints of size at least
	// minSize, in ascending order of size, at most limit of them.
	Checkpoints(ctx context.Context, minSize int64, limit int) ([]Checkpoint, error)

	// LatestCheckpoint returns the recorded checkpoint of the largest
	// size, or an error matching ErrNotFound if there is none.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
}

// SyncStore is a [Store] that can store a batch, in the log's order, before
// making it durable. A [Logger] whose store is a SyncStore stores the next
// batch while the previous one is being made durable, rather than after:
// on a database whose commits wait for the disk, that wait is most of an
// append. Record still returns only once a Sync that covers its event has
// succeeded; the store's order and atomicity are Append's.
//
// Durability is a prefix: a crash of the machine (not only of the process)
// may lose batches stored by AppendUnsynced that no successful Sync has
// covered, the latest ones first, but never leaves a gap, and never loses
// a batch that a Sync covered.
type SyncStore interface {
	Store
	// AppendUnsynced stores b as Append does (atomically, at the end of
	// the log, or not at all with ErrConflict), but may return before b
	// is durable. Readers may see b at once.
	AppendUnsynced(ctx context.Context, b Batch) error
	// Sync makes durable every batch whose AppendUnsynced returned before
	// Sync was called. It may run while another AppendUnsynced is in
	// flight. An error leaves those batches stored, and visible, but
	// perhaps not durable; a store that cannot tell whether a failed sync
	// lost data (an fsync error) keeps failing later Syncs rather than
	// report such batches durable.
	Sync(ctx context.Context) error
}

// Errors that a [Store] returns, and callers branch on with errors.Is.
var (
	// ErrConflict: an Append did not start at the end of the log, because
	// another appender added entries first.
	ErrConflict = errors.New("audit: the log grew meanwhile: append conflict")
	// ErrNotFound: what was asked for is not in the store.
	ErrNotFound = errors.New("audit: not found")
)
