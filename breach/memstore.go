package breach

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemStore is a [Store] and [OutboxStore] in memory: the reference implementation, for tests
// and for programs that need no persistence. It is safe for concurrent use.
type MemStore struct {
	mu        sync.RWMutex
	incidents map[string][]Incident

	// The outbox: deliveries by ID in order of enqueueing, with an index
	// by key, and the position before which none is pending.
	deliveries map[string]*Delivery
	order      []*Delivery
	keys       map[string]bool
	firstOpen  int
	receipts   map[string][]Receipt // by incident
}

var (
	_ Store       = (*MemStore)(nil)
	_ OutboxStore = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{incidents: make(map[string][]Incident), deliveries: make(map[string]*Delivery),
		keys: make(map[string]bool), receipts: make(map[string][]Receipt)}
}

// Append implements [Store].
func (s *MemStore) Append(ctx context.Context, inc Incident) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.incidents[inc.ID]
	if inc.Version != len(vs)+1 {
		return fmt.Errorf("%w: incident %s has %d versions, cannot append version %d", ErrConflict, inc.ID, len(vs), inc.Version)
	}
	s.incidents[inc.ID] = append(vs, inc.Clone())
	return nil
}

// Versions implements [Store].
func (s *MemStore) Versions(ctx context.Context, id string) ([]Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	vs := s.incidents[id]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	out := make([]Incident, len(vs))
	for i, v := range vs {
		out[i] = v.Clone()
	}
	return out, nil
}

// List implements [Store].
func (s *MemStore) List(ctx context.Context) ([]Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Incident
	for _, vs := range s.incidents {
		out = append(out, vs[len(vs)-1].Clone())
	}
	slices.SortFunc(out, func(a, b Incident) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Enqueue implements [OutboxStore].
func (s *MemStore) Enqueue(ctx context.Context, ds []Delivery) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range ds {
		if s.keys[d.Key] || s.deliveries[d.ID] != nil {
			continue
		}
		s.keys[d.Key] = true
		s.deliveries[d.ID] = &d
		s.order = append(s.order, &d)
		n++
	}
	if n > 0 {
		// Keep order by ID: enqueued IDs grow, but a batch may interleave
		// with another's.
		slices.SortStableFunc(s.order[s.firstOpen:], func(a, b *Delivery) int { return strings.Compare(a.ID, b.ID) })
	}
	return n, nil
}

// Claim implements [OutboxStore].
func (s *MemStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	allDone := true
	for i := s.firstOpen; i < len(s.order) && len(out) < n; i++ {
		d := s.order[i]
		if d.State != Pending {
			if allDone {
				s.firstOpen = i + 1
			}
			continue
		}
		allDone = false
		if d.NextAt.After(now) || d.LeaseOwner != "" && !d.LeaseUntil.Before(now) {
			continue
		}
		d.LeaseOwner, d.LeaseUntil = owner, now.Add(lease)
		d.Attempts++
		out = append(out, *d)
	}
	return out, nil
}

// Finish implements [OutboxStore].
func (s *MemStore) Finish(ctx context.Context, id, owner string, r Receipt, state DeliveryState, nextAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deliveries[id]
	if d == nil || d.LeaseOwner != owner || d.State != Pending {
		return fmt.Errorf("%w: %s", ErrLeaseLost, id)
	}
	d.State, d.LeaseOwner, d.LeaseUntil = state, "", time.Time{}
	if state == Pending {
		d.NextAt = nextAt
	}
	s.receipts[d.Incident] = append(s.receipts[d.Incident], r)
	return nil
}

// Deliveries implements [OutboxStore].
func (s *MemStore) Deliveries(ctx context.Context, incident string) ([]Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Delivery
	for _, d := range s.order {
		if d.Incident == incident {
			out = append(out, *d)
		}
	}
	return out, nil
}

// Receipts implements [OutboxStore].
func (s *MemStore) Receipts(ctx context.Context, incident string) ([]Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := slices.Clone(s.receipts[incident])
	slices.SortStableFunc(out, func(a, b Receipt) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := strings.Compare(a.Delivery, b.Delivery); c != 0 {
			return c
		}
		return a.Attempt - b.Attempt
	})
	return out, nil
}
