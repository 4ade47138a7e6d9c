package pii

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// MemKeyStore is a [KeyStore] that keeps records in memory. It is the
// reference implementation, for tests and small programs: its keys are lost
// when the process ends, and with them everything sealed under them.
type MemKeyStore struct {
	mu      sync.RWMutex
	recs    map[dataward.SubjectID]KeyRecord
	sorted  []dataward.SubjectID // subjects in order; rebuilt lazily by List
	isDirty bool
}

// NewMemKeyStore returns an empty [MemKeyStore].
func NewMemKeyStore() *MemKeyStore {
	return &MemKeyStore{recs: make(map[dataward.SubjectID]KeyRecord)}
}

var _ KeyStore = (*MemKeyStore)(nil)

// Get implements [KeyStore].
func (s *MemKeyStore) Get(ctx context.Context, subject dataward.SubjectID) (KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return KeyRecord{}, err
	}
	s.mu.RLock()
	rec, ok := s.recs[subject]
	s.mu.RUnlock()
	if !ok {
		return KeyRecord{}, ErrKeyNotFound
	}
	return cloneRecord(rec), nil
}

// Create implements [KeyStore].
func (s *MemKeyStore) Create(ctx context.Context, rec KeyRecord) (KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return KeyRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.recs[rec.Subject]; ok {
		return cloneRecord(old), nil
	}
	rec = cloneRecord(rec)
	s.recs[rec.Subject] = rec
	s.isDirty = true
	return cloneRecord(rec), nil
}

// Shred implements [KeyStore].
func (s *MemKeyStore) Shred(ctx context.Context, subject dataward.SubjectID, at time.Time) (KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return KeyRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[subject]
	if ok && rec.IsShredded() {
		return cloneRecord(rec), nil
	}
	if !ok {
		rec = KeyRecord{Subject: subject}
		s.isDirty = true
	}
	clear(rec.Wrapped) // overwrite the key material held by this process
	rec.Wrapped = nil
	rec.Shredded = at
	s.recs[subject] = rec
	return cloneRecord(rec), nil
}

// List implements [KeyStore].
func (s *MemKeyStore) List(ctx context.Context, after dataward.SubjectID, limit int) ([]KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock() // may rebuild the order
	defer s.mu.Unlock()
	if s.isDirty {
		s.sorted = s.sorted[:0]
		for subj := range s.recs {
			s.sorted = append(s.sorted, subj)
		}
		slices.Sort(s.sorted)
		s.isDirty = false
	}
	i, found := slices.BinarySearch(s.sorted, after)
	if found {
		i++
	}
	var out []KeyRecord
	for ; i < len(s.sorted) && len(out) < limit; i++ {
		if rec := s.recs[s.sorted[i]]; !rec.IsShredded() {
			out = append(out, cloneRecord(rec))
		}
	}
	return out, nil
}

// Replace implements [KeyStore].
func (s *MemKeyStore) Replace(ctx context.Context, rs []Replacement) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range rs {
		rec, ok := s.recs[r.Subject]
		if !ok || rec.IsShredded() || !bytes.Equal(rec.Wrapped, r.Old) {
			continue
		}
		rec.Wrapped = bytes.Clone(r.New)
		s.recs[r.Subject] = rec
		n++
	}
	return n, nil
}

func cloneRecord(r KeyRecord) KeyRecord {
	r.Wrapped = bytes.Clone(r.Wrapped)
	return r
}
