package pii

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/dataward/dataward"
)

// dekCache keeps unwrapped data keys for a bounded time and number. It is
// split into shards so that concurrent readers of different subjects do not
// contend on one lock.
//
// A shred must never be undone by a reader that fetched the key just before
// it: put inserts only if no shred happened since the caller read the
// generation (see gen), and the check and the insert happen under the same
// shard lock that the shred's eviction takes.
type dekCache struct {
	seed     maphash.Seed
	perShard int
	ttl      int64 // nanoseconds
	gen      atomic.Uint64
	shards   [cacheShards]cacheShard
}

const cacheShards = 32

type cacheShard struct {
	mu sync.RWMutex
	m  map[dataward.SubjectID]cacheEntry
}

type cacheEntry struct {
	key     *dataKey
	expires int64 // unix nanoseconds
}

func newDEKCache(size int, ttlNanos int64) *dekCache {
	c := &dekCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards), ttl: ttlNanos}
	for i := range c.shards {
		c.shards[i].m = make(map[dataward.SubjectID]cacheEntry)
	}
	return c
}

func (c *dekCache) shard(subject dataward.SubjectID) *cacheShard {
	return &c.shards[maphash.String(c.seed, string(subject))%cacheShards]
}

// get returns the cached key of subject, or nil if none is cached or it has
// expired at now (unix nanoseconds).
func (c *dekCache) get(subject dataward.SubjectID, now int64) *dataKey {
	s := c.shard(subject)
	s.mu.RLock()
	e, ok := s.m[subject]
	s.mu.RUnlock()
	if !ok || now >= e.expires {
		return nil
	}
	return e.key
}

// generation returns the value to pass to put for a key read from the store
// after this call.
func (c *dekCache) generation() uint64 { return c.gen.Load() }

// put caches key for subject unless a shred happened since gen was read.
func (c *dekCache) put(subject dataward.SubjectID, key *dataKey, now int64, gen uint64) {
	s := c.shard(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(s.m) >= c.perShard {
		// Evict expired entries, or failing that an arbitrary one (map
		// iteration order is randomised), to stay within the bound.
		evicted := false
		for subj, e := range s.m {
			if now >= e.expires {
				delete(s.m, subj)
				evicted = true
			}
		}
		if !evicted {
			for subj := range s.m {
				delete(s.m, subj)
				break
			}
		}
	}
	s.m[subject] = cacheEntry{key: key, expires: now + c.ttl}
}

// evict removes subject and makes every put that read the generation before
// this call a no-op.
func (c *dekCache) evict(subject dataward.SubjectID) {
	c.gen.Add(1)
	s := c.shard(subject)
	s.mu.Lock()
	delete(s.m, subject)
	s.mu.Unlock()
}

// len returns the number of cached keys, expired or not.
func (c *dekCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
