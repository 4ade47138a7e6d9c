package retention

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// Record is a record of a [MemTarget].
type Record struct {
	ID           string
	Subject      dataward.SubjectID
	Created      time.Time
	LastActivity time.Time
	// Fields are the record's other fields, which [Anonymise] rewrites.
	Fields map[string]any
	// Disposed is when the record was anonymised or its subject shredded;
	// such records are kept but never listed again.
	Disposed time.Time
}

// MemTarget is a [Target] in memory: the reference implementation, for
// tests and small programs. Delete removes records; Anonymise rewrites
// their fields and marks them; Shred marks them. It is safe for
// concurrent use.
type MemTarget struct {
	mu      sync.Mutex
	records map[string]Record
}

var _ Target = (*MemTarget)(nil)

// NewMemTarget returns a MemTarget holding records.
func NewMemTarget(records ...Record) *MemTarget {
	t := &MemTarget{records: make(map[string]Record, len(records))}
	for _, r := range records {
		t.Put(r)
	}
	return t
}

// Put adds or replaces a record.
func (t *MemTarget) Put(r Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r.Fields = maps.Clone(r.Fields)
	t.records[r.ID] = r
}

// Get returns the record with the ID, and whether there is one.
func (t *MemTarget) Get(id string) (Record, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.records[id]
	r.Fields = maps.Clone(r.Fields)
	return r, ok
}

// Len returns the number of records held, disposed of or not.
func (t *MemTarget) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.records)
}

// Candidates implements [Target].
func (t *MemTarget) Candidates(ctx context.Context, q Query) ([]Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Candidate
	for _, r := range t.records {
		if r.ID <= q.After || !r.Disposed.IsZero() || !q.Selects(r.Subject, r.Created, r.LastActivity) {
			continue
		}
		c := Candidate{ID: r.ID, Subject: r.Subject}
		switch q.Since {
		case SinceCreated:
			c.Time = r.Created
		case SinceLastActivity:
			c.Time = r.LastActivity
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > q.Limit {
		out = out[:max(q.Limit, 0)]
	}
	return out, nil
}

// Dispose implements [Target].
func (t *MemTarget) Dispose(ctx context.Context, b Batch) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var done []string
	for _, c := range b.Records {
		r, ok := t.records[c.ID]
		if !ok || !r.Disposed.IsZero() || !b.Query.Selects(r.Subject, r.Created, r.LastActivity) {
			continue
		}
		switch b.Action {
		case Delete:
			delete(t.records, c.ID)
		case Anonymise:
			fields := maps.Clone(r.Fields)
			for k, v := range fields {
				nv, _, err := b.Anonymise(k, v)
				if err != nil {
					return done, err
				}
				fields[k] = nv
			}
			r.Fields, r.Disposed = fields, b.Now
			t.records[c.ID] = r
		case Shred:
			r.Disposed = b.Now
			t.records[c.ID] = r
		default:
			return done, fmt.Errorf("retention: unknown action %q", string(b.Action))
		}
		done = append(done, c.ID)
	}
	return done, nil
}
