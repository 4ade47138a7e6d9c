package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/mod/sumdb/tlog"
)

// MemStore is a [Store] in memory: the reference implementation, for tests
// and programs whose log need not outlive them. It is safe for concurrent
// use.
//
// A MemStore holds no pointers per entry: entries are records in large byte
// blocks and hashes are arrays, so that the garbage collector never scans
// them however long the log grows.
type MemStore struct {
	mu          sync.RWMutex
	entries     entryLog
	hashes      chunks[tlog.Hash] // by storage index
	checkpoints []Checkpoint
}

// chunks is an append-only sequence kept in fixed-size blocks, so that
// appending never copies what is already stored (a plain slice of a
// million entries copies them all each time it grows). T holds no
// pointers.
type chunks[T any] struct {
	blocks [][]T
	n      int64
	src    blockSource[T]
}

const chunkSize = 4096

func (c *chunks[T]) len() int64 { return c.n }

func (c *chunks[T]) at(i int64) *T { return &c.blocks[i/chunkSize][i%chunkSize] }

func (c *chunks[T]) append(v T) {
	c.grow(1)
	c.appendGrown(v)
}

// grow makes room for n more values, so that appendGrown can add them.
func (c *chunks[T]) grow(n int) {
	for need := c.n + int64(n); int64(len(c.blocks))*chunkSize < need; {
		c.blocks = append(c.blocks, c.src.take(chunkSize))
	}
}

// appendGrown appends v, for which grow made room: the usual append,
// without its check.
func (c *chunks[T]) appendGrown(v T) {
	c.blocks[c.n/chunkSize] = append(c.blocks[c.n/chunkSize], v)
	c.n++
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

// newBlock returns an empty slice with room for n values of T, its memory
// mapped in at once (see prefault): a store that keeps everything writes to
// fresh memory all the time, and taking a page fault for each page of it
// costs more than the rest of an append.
func newBlock[T any](n int) []T {
	b := make([]T, 0, n)
	prefault(blockMemory(b))
	return b
}

// preparedBlock is newBlock with each page of the block written once: on
// a virtual machine the first write to a fresh page costs about 1.5 ns a
// byte here even once the page is mapped in, as much as the rest of an
// append. It is worth it for a block made ahead of need (see
// blockSource), not for one about to be written anyway.
func preparedBlock[T any](n int) []T {
	b := newBlock[T](n)
	mem := blockMemory(b)
	for i := 0; i < len(mem); i += pageSize {
		mem[i] = 0 // as it was: b's memory is zeroed
	}
	return b
}

// blockMemory returns the bytes of b's capacity.
func blockMemory[T any](b []T) []byte {
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)*int(unsafe.Sizeof(zero)))
}

var pageSize = os.Getpagesize()

// blockSource hands out the blocks of a growing sequence. Once the
// sequence has outgrown its first block, each block is prepared (by
// preparedBlock) on a goroutine of its own while the one before it fills,
// so that appends do not wait for fresh memory: on a virtual machine that
// costs about as much as the rest of an in-memory append. (The work is the
// same; it is done on another core when one is free.) A sequence that
// stays within one block costs no more than that block. The zero
// blockSource is ready to use; the goroutine preparing a block that is
// never taken ends all the same, and the block is collected with the
// sequence.
type blockSource[T any] struct {
	taken int
	next  chan []T // capacity 1: the block being prepared, once taken > 1
}

// take returns an empty block with room for n values; n is the same at
// every call.
func (s *blockSource[T]) take(n int) []T {
	s.taken++
	if s.taken == 1 {
		return newBlock[T](n)
	}
	var b []T
	if s.next == nil {
		s.next = make(chan []T, 1)
		b = newBlock[T](n)
	} else {
		b = <-s.next
	}
	go func(next chan<- []T) { next <- preparedBlock[T](n) }(s.next)
	return b
}

// entryLog keeps the entries of a MemStore. Each entry is a record in a
// large block of bytes. An entry whose columns are those its Data encodes
// (every entry of a batch a Logger appends: see [Batch.FromData]) is kept as
//
//	len(Data)<<1 | 1 (uvarint) | Data
//
// and its columns are read from Data again when it is read, as a SQL store
// does, so that they are not stored twice (writing fresh memory is most of
// the cost of an append). Any other entry is kept as
//
//	len(Data)<<1 (uvarint) | Data | Index (varint) |
//	Time: Unix seconds (varint), nanoseconds (uvarint) |
//	Action, Class, ActorID, Subject, ResourceType, ResourceID, Outcome,
//	each its length (uvarint) and bytes
//
// and locs gives where each record starts. Records are only appended: the
// bytes of a block never change once written.
type entryLog struct {
	blocks [][]byte
	src    blockSource[byte] // of blocks of arenaBlock bytes
	cur    int               // the block that small records go to; -1 for none
	locs   chunks[uint64]    // per entry: block index << 32 | offset in the block
}

const (
	arenaBlock = 1 << 20
	// recordOverhead bounds the bytes of a record other than its strings
	// and Data: three numbers and eight lengths.
	recordOverhead = 11 * binary.MaxVarintLen64
)

func (l *entryLog) len() int64 { return l.locs.len() }

// add appends e; derived says that its columns are those its Data
// encodes.
func (l *entryLog) add(e *Entry, derived bool) {
	need := binary.MaxVarintLen64 + len(e.Data)
	if !derived {
		need += recordOverhead + len(e.Action) + len(e.Class) + len(e.ActorID) + len(e.Subject) +
			len(e.ResourceType) + len(e.ResourceID) + len(e.Outcome)
	}
	if len(l.blocks) == 0 {
		l.cur = -1
	}
	var i int
	switch {
	case need > arenaBlock/4: // a block of its own
		i = len(l.blocks)
		l.blocks = append(l.blocks, make([]byte, 0, need))
	case l.cur < 0 || len(l.blocks[l.cur])+need > cap(l.blocks[l.cur]):
		l.cur = len(l.blocks)
		i = l.cur
		l.blocks = append(l.blocks, l.src.take(arenaBlock))
	default:
		i = l.cur
	}
	b := l.blocks[i]
	l.locs.append(uint64(i)<<32 | uint64(len(b)))
	head := uint64(len(e.Data)) << 1
	if derived {
		head |= 1
	}
	b = binary.AppendUvarint(b, head)
	b = append(b, e.Data...)
	if !derived {
		b = binary.AppendVarint(b, e.Index)
		b = binary.AppendVarint(b, e.Time.Unix())
		b = binary.AppendUvarint(b, uint64(e.Time.Nanosecond()))
		for _, s := range [...]string{e.Action, e.Class, e.ActorID, e.Subject, e.ResourceType, e.ResourceID, string(e.Outcome)} {
			b = appendString(b, s)
		}
	}
	l.blocks[i] = b
}

// at returns entry i. Its strings and Data point into the block, which
// never changes, so they can be read but Data must not be handed out: the
// caller owns what it receives (see own).
func (l *entryLog) at(i int64) Entry {
	loc := *l.locs.at(i)
	b := l.blocks[loc>>32][uint32(loc):]
	head, n := binary.Uvarint(b)
	b = b[n:]
	size := int(head >> 1)
	var e Entry
	e.Data, b = b[:size:size], b[size:]
	view := func(s []byte) string { return unsafe.String(unsafe.SliceData(s), len(s)) }
	if head&1 != 0 {
		// The columns are those Data encodes. (If it does not, the entry
		// is damaged, which Verify reports, and they stay empty.)
		if c, err := readColumns(e.Data); err == nil {
			e = c.entry(e.Data, view(e.Data[:c.end]))
		}
		e.Index = i
		return e
	}
	e.Index, n = binary.Varint(b)
	b = b[n:]
	sec, n := binary.Varint(b)
	b = b[n:]
	nsec, n := binary.Uvarint(b)
	b = b[n:]
	e.Time = time.Unix(sec, int64(nsec)).UTC()
	str := func() string {
		size, n := binary.Uvarint(b)
		s := b[n : n+int(size)]
		b = b[n+int(size):]
		return view(s)
	}
	e.Action, e.Class, e.ActorID, e.Subject = str(), str(), str(), str()
	e.ResourceType, e.ResourceID, e.Outcome = str(), str(), Outcome(str())
	return e
}

// own returns e, read with at, in memory of its own: the caller may keep
// it after the store is gone and change its Data. Data and the strings
// share one allocation, the strings after the end of Data (whose capacity
// ends with it, so that they cannot be written through it).
func own(e Entry) Entry {
	strs := [...]*string{&e.Action, &e.Class, &e.ActorID, &e.Subject, &e.ResourceType, &e.ResourceID, (*string)(&e.Outcome)}
	size := len(e.Data)
	for _, p := range strs {
		size += len(*p)
	}
	buf := make([]byte, size)
	n := copy(buf, e.Data)
	e.Data = buf[:n:n]
	for _, p := range strs {
		if len(*p) == 0 {
			*p = ""
			continue
		}
		start := n
		n += copy(buf[n:], *p)
		*p = unsafe.String(&buf[start], n-start)
	}
	return e
}

// all returns every entry, owned (for tests).
func (l *entryLog) all() []Entry {
	out := make([]Entry, l.len())
	for i := range out {
		out[i] = own(l.at(int64(i)))
	}
	return out
}

// set replaces the entries (for tests).
func (l *entryLog) set(entries []Entry) {
	*l = entryLog{}
	for i := range entries {
		l.add(&entries[i], false)
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
	for i := range b.Entries {
		s.entries.add(&b.Entries[i], b.FromData)
	}
	s.hashes.grow(len(b.Hashes))
	for _, h := range b.Hashes {
		s.hashes.appendGrown(h.Hash)
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
	end := s.entries.len()
	if int64(n) < end-start { // not start+n, which may overflow
		end = start + int64(n)
	}
	out := make([]Entry, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, own(s.entries.at(i)))
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
	if f.After >= s.entries.len() { // f.After+1 may overflow
		return nil, nil
	}
	start := max(f.After+1, 0)
	var out []Entry
	for i := start; i < s.entries.len() && len(out) < f.Limit; i++ {
		if e := s.entries.at(i); f.Matches(e) {
			out = append(out, own(e))
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
