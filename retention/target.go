package retention

import (
	"context"
	"time"

	"github.com/dataward/dataward"
)

// Target is one data set as the [Sweeper] sees it: the host implements it
// per data set (a table, a bucket, a directory), or takes a ready one:
// [MemTarget], sqlstore's table target, [DirTarget] for files. A Target
// lists the records whose retention period may have ended and disposes of
// them in batches; the Sweeper decides which, keeps holds, leases, cursors
// and receipts.
type Target interface {
	// Candidates returns at most q.Limit records that q selects, in
	// increasing order of ID, all with IDs after q.After in that order
	// (byte order for text; a SQL table's order of its key). The sweeper
	// passes the last ID of a batch as the next After. A record disposed of (deleted, or marked as anonymised or
	// shredded) is never returned again.
	Candidates(ctx context.Context, q Query) ([]Candidate, error)
	// Dispose applies b.Action to the records of b that still exist and
	// that b's query still selects (a record whose last activity moved on
	// since it was listed is left alone), and returns the IDs of those it
	// disposed of. Disposing of a record already disposed of does nothing,
	// so that a batch repeated after a crash does no harm. It should hold
	// its locks for no longer than the batch takes.
	Dispose(ctx context.Context, b Batch) ([]string, error)
}

// NextDisposer is an optional interface of a [Target] that can select and
// dispose of its next batch in one step, without listing it first: on a
// SQL table, one short transaction or statement per batch instead of a
// query and then a transaction. The [Sweeper] uses it, when a sweep
// disposes of (not a [Sweeper.Plan]) a data set that no hold can cover
// (no active hold on its category, on any subject or on any of its
// records), with no Options.MaxPerRun and an action other than [Shred];
// otherwise, or if DisposeNext reports [errors.ErrUnsupported], it lists
// with Candidates and disposes with Dispose.
type NextDisposer interface {
	// DisposeNext disposes of, as Dispose would, the records that
	// Candidates(ctx, b.Query) would list at that moment (at most
	// b.Query.Limit, the first after b.Query.After in order of ID), and
	// returns their IDs in that order; b.Records is nil. Fewer than
	// b.Query.Limit IDs tells the sweeper that none remain after the
	// last; the sweeper passes the last as the next After. A record that
	// another transaction holds locked may be skipped, as in Dispose. If
	// it returns an error, it must have disposed of nothing; one wrapping
	// [errors.ErrUnsupported] (such as for an action it cannot carry out
	// in one step) makes the sweeper list and dispose instead.
	DisposeNext(ctx context.Context, b Batch) ([]string, error)
}

// PolicyChecker is implemented by targets that can tell, before anything
// is disposed of, whether they can carry out a policy (the columns its
// rules name exist, its action is supported). [New] calls it.
type PolicyChecker interface {
	CheckPolicy(p Policy) error
}

// Query selects the records of a data set whose retention period may have
// ended.
type Query struct {
	Dataset string
	// Since is the time that selects records: [SinceCreated] or
	// [SinceLastActivity] select records whose creation or last activity
	// is at or before Cutoff. For [SinceEvent] and [SinceDate], records
	// are selected by Subjects or All, and Cutoff is zero.
	Since  Since
	Cutoff time.Time
	// Subjects, if not nil, selects only the records of these subjects,
	// whatever their times.
	Subjects []dataward.SubjectID
	// All selects every record, whatever its times.
	All   bool
	After string // only IDs greater than After
	Limit int
}

// Selects reports whether q selects a record with those times and subject;
// targets can use it to filter and to check again in Dispose.
func (q Query) Selects(subject dataward.SubjectID, created, lastActivity time.Time) bool {
	switch {
	case q.All:
		return true
	case q.Subjects != nil:
		for _, s := range q.Subjects {
			if s == subject {
				return true
			}
		}
		return false
	case q.Since == SinceCreated:
		return !created.IsZero() && !created.After(q.Cutoff)
	case q.Since == SinceLastActivity:
		return !lastActivity.IsZero() && !lastActivity.After(q.Cutoff)
	}
	return false
}

// Candidate is a record a [Target] lists: its ID, its data subject (for
// subject holds and crypto-shredding; empty if it has none) and its time
// by the query's Since (zero for event and date triggers), which the
// Sweeper checks again.
type Candidate struct {
	ID      string
	Subject dataward.SubjectID
	Time    time.Time
}

// Batch is a set of records to dispose of in one step.
type Batch struct {
	Dataset string
	Action  Action
	// Query is the query that listed the records; Dispose checks it again.
	Query Query
	// Records are the records to dispose of, in order of ID; nil for
	// [NextDisposer.DisposeNext].
	Records []Candidate
	// Fields are the rules of [Anonymise]; see [Batch.Anonymise].
	Fields []FieldRule
	// Now is the instant of the sweep, for a target that marks disposed
	// records.
	Now time.Time

	hashKey []byte
}

// IDs returns the IDs of b's records.
func (b *Batch) IDs() []string {
	ids := make([]string, len(b.Records))
	for i, c := range b.Records {
		ids[i] = c.ID
	}
	return ids
}

// Anonymise returns the value v of field rewritten by the batch's rule for
// that field, and whether there is one. A field without a rule is kept as
// it is. A value of a type the rule cannot rewrite (a number generalised to
// a year) gets an error naming the field, never the value.
func (b *Batch) Anonymise(field string, v any) (any, bool, error) {
	for _, r := range b.Fields {
		if r.Field == field {
			out, err := r.apply(v, func(field, value string) string {
				return keyedHash(b.hashKey, b.Dataset, field, value)
			})
			return out, true, err
		}
	}
	return v, false, nil
}

// Shredder crypto-shreds a data subject: it destroys the subject's data
// key, so that every copy of the subject's encrypted data, in back-ups
// too, can no longer be read. Shredding a shredded subject must succeed.
// A *pii.Keyring is one through [KeyringShredder].
type Shredder interface {
	Shred(ctx context.Context, subject dataward.SubjectID) error
}

// ShredderFunc adapts a function to the [Shredder] interface.
type ShredderFunc func(ctx context.Context, subject dataward.SubjectID) error

// Shred returns f(ctx, subject).
func (f ShredderFunc) Shred(ctx context.Context, subject dataward.SubjectID) error {
	return f(ctx, subject)
}

// KeyringShredder returns a [Shredder] that calls k.Shred and drops what
// it returns besides the error. It accepts a *pii.Keyring, whose Shred
// returns the key's tombstone, without this package importing pii:
//
//	opts := &retention.Options{Shredder: retention.KeyringShredder(keyring)}
func KeyringShredder[R any](k interface {
	Shred(ctx context.Context, subject dataward.SubjectID) (R, error)
}) Shredder {
	return ShredderFunc(func(ctx context.Context, subject dataward.SubjectID) error {
		_, err := k.Shred(ctx, subject)
		return err
	})
}
