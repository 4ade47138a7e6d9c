package audit

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
)

// Query selects events for [Logger.Query]. Zero fields match everything.
// Actor IDs, subjects and resource IDs are given in clear: the Logger turns
// them into their stored form (a keyed hash, for Sensitive fields) to
// match.
type Query struct {
	From, To     time.Time // From <= Time < To
	Action       string
	ActorID      string
	Subject      dataward.SubjectID
	ResourceType string
	ResourceID   string
	Outcome      Outcome
	Start        int64 // a cursor: only events at this index or later; 0 for the start
	Limit        int   // at most this many (default 100, at most 10,000)
	// Proofs asks for each event's inclusion proof against Checkpoint
	// (which must be given, and cover the events).
	Proofs     bool
	Checkpoint *Checkpoint
}

// StoredEvent is an event as the log holds it, read back by
// [Logger.Query]. Sensitive values appear as keyed hashes (starting with
// [HashPrefix]); Secret values are opened if the query named the subject
// and the subject's key exists, read [Erased] if the subject was shredded,
// and [Sealed] otherwise.
type StoredEvent struct {
	Index int64
	Event
	// Data is the canonical encoding the tree commits to: with Proof, what
	// a third party checks (see CheckInclusion).
	Data []byte
	// Proof is the inclusion proof of the event against Query.Checkpoint,
	// if Query.Proofs was set.
	Proof tlog.RecordProof
}

// Query returns the events that match q, in log order, and the cursor to
// pass as q.Start for the next page (0 when there is no more).
func (l *Logger) Query(ctx context.Context, q Query) ([]StoredEvent, int64, error) {
	switch {
	case q.Limit == 0:
		q.Limit = 100
	case q.Limit < 0 || q.Limit > 10_000:
		return nil, 0, (&dataward.ValidationError{Package: "audit"}).Add("query.limit", "must be between 1 and 10000").Err()
	}
	if q.Start < 0 {
		return nil, 0, (&dataward.ValidationError{Package: "audit"}).Add("query.start", "must not be negative").Err()
	}
	if q.Proofs && q.Checkpoint == nil {
		return nil, 0, (&dataward.ValidationError{Package: "audit"}).Add("query.checkpoint", "is required for proofs").Err()
	}
	f := Filter{
		From: q.From, To: q.To, Action: q.Action, ResourceType: q.ResourceType,
		Outcome: q.Outcome, After: q.Start - 1, Limit: q.Limit,
	}
	if q.ActorID != "" {
		f.ActorID = l.storedForm(FieldActorID, q.ActorID)
	}
	if q.ResourceID != "" {
		f.ResourceID = l.storedForm(FieldResourceID, q.ResourceID)
	}
	if q.Subject != "" {
		f.Subject = l.SubjectKey(q.Subject)
	}
	entries, err := l.store.Query(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: query: %w", err)
	}
	out := make([]StoredEvent, 0, len(entries))
	for _, e := range entries {
		index, ev, err := decode(e.Data)
		if err != nil || index != e.Index {
			return nil, 0, fmt.Errorf("audit: query: entry %d does not decode (run Verify): %v", e.Index, err)
		}
		subject := q.Subject
		if l.fields[FieldSubject] == Public {
			subject = ev.Subject
		}
		l.reveal(ctx, &ev, subject)
		se := StoredEvent{Index: e.Index, Event: ev, Data: e.Data}
		if q.Proofs {
			if se.Proof, err = l.Prove(ctx, e.Index, *q.Checkpoint); err != nil {
				return nil, 0, err
			}
		}
		out = append(out, se)
	}
	var next int64
	if len(entries) == q.Limit {
		next = entries[len(entries)-1].Index + 1
	}
	return out, next, nil
}

// storedForm is how a query value of a non-secret field is stored.
func (l *Logger) storedForm(f Field, v string) string {
	if l.fields[f] == Public {
		return v
	}
	return l.hash(string(f), v)
}
