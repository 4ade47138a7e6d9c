package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// MemStore is a [Store] in memory: the reference implementation, for tests
// and for programs that need no persistence. It is safe for concurrent
// use.
type MemStore struct {
	mu      sync.Mutex
	holds   map[string]Hold
	events  map[string]map[dataward.SubjectID]time.Time
	leases  map[string]memLease
	cursors map[string]string
}

type memLease struct {
	owner   string
	expires time.Time
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		holds:   make(map[string]Hold),
		events:  make(map[string]map[dataward.SubjectID]time.Time),
		leases:  make(map[string]memLease),
		cursors: make(map[string]string),
	}
}

// AddHold implements [Store].
func (s *MemStore) AddHold(ctx context.Context, h Hold) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.holds[h.ID]; ok {
		return fmt.Errorf("%w: hold %q", ErrDuplicate, h.ID)
	}
	s.holds[h.ID] = h
	return nil
}

// RemoveHold implements [Store].
func (s *MemStore) RemoveHold(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.holds[id]; !ok {
		return fmt.Errorf("%w: hold %q", ErrNotFound, id)
	}
	delete(s.holds, id)
	return nil
}

// Holds implements [Store].
func (s *MemStore) Holds(ctx context.Context) ([]Hold, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Hold, 0, len(s.holds))
	for _, h := range s.holds {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Hold) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// PutEvent implements [Store].
func (s *MemStore) PutEvent(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.events[e.Name]
	if m == nil {
		m = make(map[dataward.SubjectID]time.Time)
		s.events[e.Name] = m
	}
	m[e.Subject] = e.Time.UTC().Truncate(time.Microsecond)
	return nil
}

// DeleteEvent implements [Store].
func (s *MemStore) DeleteEvent(ctx context.Context, name string, subject dataward.SubjectID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.events[name][subject]; !ok {
		return fmt.Errorf("%w: event %q", ErrNotFound, name)
	}
	delete(s.events[name], subject)
	return nil
}

// Events implements [Store].
func (s *MemStore) Events(ctx context.Context, name string, cutoff time.Time, after dataward.SubjectID, limit int) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for sub, t := range s.events[name] {
		if sub > after && !t.After(cutoff) {
			out = append(out, Event{Name: name, Subject: sub, Time: t})
		}
	}
	slices.SortFunc(out, func(a, b Event) int { return strings.Compare(string(a.Subject), string(b.Subject)) })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// AcquireLease implements [Store].
func (s *MemStore) AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[name]
	if ok && l.owner != owner && l.expires.After(now.Truncate(time.Microsecond)) {
		return false, nil
	}
	s.leases[name] = memLease{owner: owner, expires: expires.UTC().Truncate(time.Microsecond)}
	return true, nil
}

// ReleaseLease implements [Store].
func (s *MemStore) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[name]; ok && l.owner == owner {
		delete(s.leases, name)
	}
	return nil
}

// Cursor implements [Store].
func (s *MemStore) Cursor(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[name], nil
}

// SetCursor implements [Store].
func (s *MemStore) SetCursor(ctx context.Context, name, owner, cursor string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[name]
	if !ok || l.owner != owner || !l.expires.After(now.Truncate(time.Microsecond)) {
		return fmt.Errorf("%w: %q", ErrLeaseLost, name)
	}
	if cursor == "" {
		delete(s.cursors, name)
	} else {
		s.cursors[name] = cursor
	}
	return nil
}
