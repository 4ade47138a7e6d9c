package rbac

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/dataward/dataward/internal/follow"
)

// MemStore is a [Store] and [Watcher] in memory: the reference
// implementation, for tests and for programs that need no persistence. It
// is safe for concurrent use.
type MemStore struct {
	mu       sync.RWMutex
	grants   map[string]Grant
	watchers follow.Watchers
}

var (
	_ Store   = (*MemStore)(nil)
	_ Watcher = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{grants: make(map[string]Grant)}
}

// Add implements [Store].
func (s *MemStore) Add(ctx context.Context, g Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[g.ID]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, g.ID)
	}
	s.grants[g.ID] = g
	s.watchers.Notify()
	return nil
}

// Remove implements [Store].
func (s *MemStore) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[id]; !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	delete(s.grants, id)
	s.watchers.Notify()
	return nil
}

// List implements [Store].
func (s *MemStore) List(ctx context.Context) ([]Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.grants) == 0 {
		return nil, nil
	}
	out := make([]Grant, 0, len(s.grants))
	for _, g := range s.grants {
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y Grant) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// Watch implements [Watcher].
func (s *MemStore) Watch(ctx context.Context, changed chan<- struct{}) error {
	return s.watchers.Watch(ctx, changed)
}
