package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemStore is a [Store] in memory: the reference implementation, for tests
// and programs whose log need not outlive them. It is safe for concurrent
// use.
type MemStore struct {
	mu          sync.RWMutex
	entries     chunks[Entry] // Data points into arena
	arena       arena
	hashes      chunks[tlog.Hash] // by storage index
	checkpoints []Checkpoint
}

// chunks is an append-only sequence kept in fixed-size blocks, so that
// appending never copies what is already stored (a plain slice of a
// million entries copies them all each time it grows).
type chunks[T any] struct {
	blocks [][]T
	n      int64
}

const chunkSize = 4096

func (c *chunks[T]) len() int64 { return c.n }

func (c *chunks[T]) at(i int64) *T { return &c.blocks[i/chunkSize][i%chunkSize] }

func (c *chunks[T]) append(v T) {
	if c.n%chunkSize == 0 {
		c.blocks = append(c.blocks, make([]T, 0, chunkSize))
	}
	b := &c.blocks[len(c.blocks)-1]
	*b = append(*b, v)
	c.n++
}

// arena keeps the entries' encodings in large blocks: one allocation per
// megabyte rather than one per entry, which the garbage collector would
// otherwise have to track one by one.
type arena struct{ block []byte }

const arenaBlock = 1 << 20

// copy returns a copy of b that lives in the arena.
func (a *arena) copy(b []byte) []byte {
	if len(b) > arenaBlock/4 {
		return slices.Clone(b)
	}
	if len(a.block)+len(b) > cap(a.block) {
		a.block = make([]byte, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = append(a.block, b...)
	return a.block[start:len(a.block):len(a.block)]
}

// all returns a copy of the sequence as one slice (for tests).
func (c *chunks[T]) all() []T {
	out := make([]T, 0, c.n)
	for _, b := range c.blocks {
		out = append(out, b...)
	}
	return out
}

// set replaces the sequence (for tests).
func (c *chunks[T]) set(vs []T) {
	*c = chunks[T]{}
	for _, v := range vs {
		c.append(v)
	}
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty log in memory.
func NewMemStore() *MemStore { return &MemStore{} }

// Append implements [Store].
func (s *MemStore) Append(ctx context.Context, b Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Entries) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size := s.entries.len()
	for i, e := range b.Entries {
		if e.Index != size+int64(i) {
			if i == 0 {
				return fmt.Errorf("%w: entry %d appended at size %d", ErrConflict, e.Index, size)
			}
			return fmt.Errorf("audit: batch entries are not consecutive: %d after %d", e.Index, b.Entries[i-1].Index)
		}
	}
	next := s.hashes.len()
	for i, h := range b.Hashes {
		if h.Index != next+int64(i) {
			return fmt.Errorf("audit: stored hash %d appended where %d is next", h.Index, next+int64(i))
		}
	}
	for _, e := range b.Entries {
		e.Data = s.arena.copy(e.Data)
		s.entries.append(e)
	}
	for _, h := range b.Hashes {
		s.hashes.append(h.Hash)
	}
	return nil
}

// Size implements [Store].
func (s *MemStore) Size(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries.len(), nil
}

// ReadEntries implements [Store].
func (s *MemStore) ReadEntries(ctx context.Context, start int64, n int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("audit: ReadEntries(%d, %d): negative argument", start, n)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if start >= s.entries.len() {
		return nil, nil
	}
	end := min(start+int64(n), s.entries.len())
	out := make([]Entry, 0, end-start)
	for i := start; i < end; i++ {
		e := *s.entries.at(i)
		e.Data = slices.Clone(e.Data)
		out = append(out, e)
	}
	return out, nil
}

// ReadHashes implements [Store] and tlog.HashReader's contract.
func (s *MemStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= s.hashes.len() {
			return nil, fmt.Errorf("%w: stored hash %d (the log holds %d)", ErrNotFound, x, s.hashes.len())
		}
		out[i] = *s.hashes.at(x)
	}
	return out, nil
}

// Query implements [Store].
func (s *MemStore) Query(ctx context.Context, f Filter) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		return nil, fmt.Errorf("audit: Query: Limit must be positive, not %d", f.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := max(f.After+1, 0)
	var out []Entry
	for i := start; i < s.entries.len() && len(out) < f.Limit; i++ {
		if e := *s.entries.at(i); f.Matches(e) {
			e.Data = slices.Clone(e.Data)
			out = append(out, e)
		}
	}
	return out, nil
}

// Matches reports whether e passes every condition of f other than After
// and Limit. Store implementations may use it.
func (f Filter) Matches(e Entry) bool {
	return (f.From.IsZero() || !e.Time.Before(f.From)) &&
		(f.To.IsZero() || e.Time.Before(f.To)) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.ActorID == "" || e.ActorID == f.ActorID) &&
		(f.Subject == "" || e.Subject == f.Subject) &&
		(f.ResourceType == "" || e.ResourceType == f.ResourceType) &&
		(f.ResourceID == "" || e.ResourceID == f.ResourceID) &&
		(f.Outcome == "" || e.Outcome == f.Outcome)
}

// AddCheckpoint implements [Store].
func (s *MemStore) AddCheckpoint(ctx context.Context, c Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.checkpoints), func(i int) bool { return s.checkpoints[i].Size >= c.Size })
	if i < len(s.checkpoints) && s.checkpoints[i].Size == c.Size {
		return nil
	}
	c.Note = slices.Clone(c.Note)
	s.checkpoints = slices.Insert(s.checkpoints, i, c)
	return nil
}

// Checkpoints implements [Store].
func (s *MemStore) Checkpoints(ctx context.Context, minSize int64, limit int) ([]Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.checkpoints), func(i int) bool { return s.checkpoints[i].Size >= minSize })
	var out []Checkpoint
	for ; i < len(s.checkpoints) && len(out) < limit; i++ {
		c := s.checkpoints[i]
		c.Note = slices.Clone(c.Note)
		out = append(out, c)
	}
	return out, nil
}

// LatestCheckpoint implements [Store].
func (s *MemStore) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.checkpoints) == 0 {
		return Checkpoint{}, fmt.Errorf("%w: no checkpoint yet", ErrNotFound)
	}
	c := s.checkpoints[len(s.checkpoints)-1]
	c.Note = slices.Clone(c.Note)
	return c, nil
}
