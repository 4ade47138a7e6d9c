package consent

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/follow"
)

// MemStore is a [Store] and [Watcher] in memory: the reference
// implementation, for tests and for programs that need no persistence. It
// is safe for concurrent use.
type MemStore struct {
	mu      sync.RWMutex
	tenants map[string]*memTenant
}

type memTenant struct {
	records   []Record
	bySubject map[dataward.SubjectID][]int // positions in records
	refs      map[string]bool
	watchers  follow.Watchers
}

var (
	_ Store   = (*MemStore)(nil)
	_ Watcher = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{tenants: make(map[string]*memTenant)} }

func (s *MemStore) tenant(name string) *memTenant {
	t := s.tenants[name]
	if t == nil {
		t = &memTenant{bySubject: make(map[dataward.SubjectID][]int), refs: make(map[string]bool)}
		s.tenants[name] = t
	}
	return t
}

// Append implements [Store].
func (s *MemStore) Append(ctx context.Context, rec Record) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenant(rec.Tenant)
	if rec.Ref != "" {
		if t.refs[rec.Ref] {
			return 0, fmt.Errorf("%w (tenant %q)", ErrDuplicateRef, rec.Tenant)
		}
		t.refs[rec.Ref] = true
	}
	rec.Seq = int64(len(t.records)) + 1
	t.bySubject[rec.Subject] = append(t.bySubject[rec.Subject], len(t.records))
	t.records = append(t.records, rec)
	t.watchers.Notify()
	return rec.Seq, nil
}

// History implements [Store].
func (s *MemStore) History(ctx context.Context, tenant string, subject dataward.SubjectID) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tenants[tenant]
	if t == nil {
		return nil, nil
	}
	idx := t.bySubject[subject]
	out := make([]Record, len(idx))
	for i, j := range idx {
		out[i] = t.records[j]
	}
	return out, nil
}

// Since implements [Store].
func (s *MemStore) Since(ctx context.Context, tenant string, after int64, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("consent: Since limit %d is out of range 1 to %d", limit, MaxPage)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tenants[tenant]
	if t == nil || after >= int64(len(t.records)) {
		return nil, nil
	}
	start := max(after, 0)
	end := min(start+int64(limit), int64(len(t.records)))
	return slices.Clone(t.records[start:end]), nil
}

// Head implements [Store].
func (s *MemStore) Head(ctx context.Context, tenant string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t := s.tenants[tenant]; t != nil {
		return int64(len(t.records)), nil
	}
	return 0, nil
}

// Watch implements [Watcher].
func (s *MemStore) Watch(ctx context.Context, tenant string, changed chan<- struct{}) error {
	s.mu.Lock()
	t := s.tenant(tenant)
	s.mu.Unlock()
	return t.watchers.Watch(ctx, changed)
}
