package retention

import (
	"context"
	"errors"
	"time"

	"github.com/dataward/dataward"
)

// Errors callers branch on, matched with [errors.Is].
var (
	// ErrNotFound: the hold or event does not exist.
	ErrNotFound = errors.New("retention: not found")
	// ErrDuplicate: a hold with that ID exists already.
	ErrDuplicate = errors.New("retention: duplicate")
	// ErrLeaseLost: the sweeper no longer holds the lease of a data set
	// (it expired and another sweeper took it over), so it stopped
	// sweeping that data set.
	ErrLeaseLost = errors.New("retention: lease lost")
)

// Store keeps what sweepers share: legal holds, the events that start
// retention periods, the lease of each data set and the cursor of its
// sweep. Implementations are thin; the [Sweeper] validates. MemStore is the
// reference; package sqlstore has one on SQLite and PostgreSQL; package
// retentiontest checks an implementation. Methods must be safe for
// concurrent use, by many processes if the store is shared.
type Store interface {
	// AddHold keeps a hold. Returns an error matching [ErrDuplicate] if a
	// hold with its ID exists, and keeps nothing.
	AddHold(ctx context.Context, h Hold) error
	// RemoveHold deletes the hold with the ID. Returns an error matching
	// [ErrNotFound] if there is none.
	RemoveHold(ctx context.Context, id string) error
	// Holds returns every hold kept, ended or not, in order of ID.
	Holds(ctx context.Context) ([]Hold, error)

	// PutEvent records that the event e.Name happened to e.Subject at
	// e.Time, replacing the time of an earlier one with the same name and
	// subject.
	PutEvent(ctx context.Context, e Event) error
	// DeleteEvent forgets the event name of subject (the person
	// subscribed again). Returns an error matching [ErrNotFound] if there
	// is none.
	DeleteEvent(ctx context.Context, name string, subject dataward.SubjectID) error
	// Events returns at most limit events named name that happened at or
	// before cutoff to subjects greater than after (in byte order), in
	// order of subject.
	Events(ctx context.Context, name string, cutoff time.Time, after dataward.SubjectID, limit int) ([]Event, error)

	// AcquireLease takes the lease name for owner until expires, or
	// extends it if owner holds it. It reports false, changing nothing, if
	// another owner holds a lease that has not expired at now. Times are
	// kept to the microsecond.
	AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error)
	// ReleaseLease ends owner's lease name; it does nothing if owner does
	// not hold it.
	ReleaseLease(ctx context.Context, name, owner string) error
	// Cursor returns the cursor kept under name, or "" if there is none.
	Cursor(ctx context.Context, name string) (string, error)
	// SetCursor keeps cursor under name ("" forgets it), if and only if
	// owner holds the lease name and it has not expired at now; otherwise
	// it returns an error matching [ErrLeaseLost] and keeps nothing. The
	// check and the write are one atomic step.
	SetCursor(ctx context.Context, name, owner, cursor string, now time.Time) error
}

// Event is something that happened to a data subject and starts the
// retention period of policies with [SinceEvent], such as "unsubscribe",
// "account_closed" or "contract_end". The host records it with
// [Sweeper.RecordEvent].
type Event struct {
	Name    string
	Subject dataward.SubjectID
	Time    time.Time
}

// Hold is a legal hold: while it lasts, the records it covers are never
// disposed of, whatever their policy says. A hold covers exactly one of:
// every record of a Subject; one Record of a Dataset; every data set of a
// Category or a category below it ("user.contact" covers
// "user.contact.email").
type Hold struct {
	ID       string             // set by [Sweeper.PlaceHold]
	Subject  dataward.SubjectID // every record of this subject
	Dataset  string             // with Record: the data set of the record
	Record   string             // with Dataset: one record
	Category string             // every data set of this category or below
	// Reason says why the data is held, such as "litigation 2026-17".
	// It must not be personal data: it is shown in reports and receipts.
	Reason  string
	Created time.Time // when it was placed; set by [Sweeper.PlaceHold]
	// Until ends the hold on its own; zero holds until
	// [Sweeper.ReleaseHold].
	Until time.Time
}

// String returns the hold's ID and what kind of hold it is, never the
// subject or record it names.
func (h Hold) String() string {
	kind := "hold"
	switch {
	case h.Subject != "":
		kind = "subject hold"
	case h.Record != "":
		kind = "record hold"
	case h.Category != "":
		kind = "category hold " + h.Category
	}
	return "retention: " + kind + " " + h.ID
}

// active reports whether h holds at now.
func (h Hold) active(now time.Time) bool { return h.Until.IsZero() || now.Before(h.Until) }

func (h Hold) check(ve *dataward.ValidationError) {
	n := 0
	if h.Subject != "" {
		n++
		if p := h.Subject.Problem(); p != "" {
			ve.Add("hold.subject", p)
		}
	}
	if h.Record != "" || h.Dataset != "" {
		n++
		if h.Record == "" {
			ve.Add("hold.record", "is required with hold.dataset")
		} else if len(h.Record) > MaxNameLen {
			ve.Add("hold.record", "is longer than 255 bytes")
		}
		if msg := nameProblem(h.Dataset); msg != "" {
			ve.Add("hold.dataset", msg)
		}
	}
	if h.Category != "" {
		n++
		if msg := categoryProblem(h.Category); msg != "" {
			ve.Add("hold.category", msg)
		}
	}
	if n != 1 {
		ve.Add("hold", "must name exactly one of a subject, a record (with its data set) or a category")
	}
	switch {
	case h.Reason == "":
		ve.Add("hold.reason", "is required")
	case len(h.Reason) > MaxReasonLen:
		ve.Add("hold.reason", "is longer than 1024 bytes")
	}
}
