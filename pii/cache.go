package pii

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/dataward/dataward"
)

// dekCache keeps unwrapped data keys for a bounded time and number.
//
// It is a set-associative table, as CPU caches are: a subject's hash picks
// a set of cacheWays slots, and the subject's key can only be in one of
// them. A hit reads at most cacheWays atomic pointers to immutable entries
// and takes no lock, so readers never contend with each other or wait for
// a writer. Writers take the lock of the set's stripe. When a set is full,
// a new key replaces an expired one or else the one that expires soonest.
// The bound is exact: the table has room for size keys, rounded up to a
// whole set.
//
// A shred must never be undone by a reader that fetched the key just before
// it: put stores only if no shred happened since the caller read the
// generation (see gen), and the check and the store happen under the same
// lock that the shred's eviction takes.
//
// Reading the clock costs about as much as the rest of a hit, so with the
// system clock a hit does not read it: it compares expiry times with the
// last reading, which put and a timer refresh every tick. The timer runs
// only while the cache holds keys, and drops expired keys as it goes; an
// entry is stored to expire one tick early, so that no key is used for
// longer than the TTL. With a host's own clock (tick 0) every hit reads it.
type dekCache struct {
	seed  maphash.Seed
	sets  uint64 // number of sets
	slots []atomic.Pointer[cacheEntry]
	locks [cacheStripes]sync.Mutex // a set's lock is locks[set%cacheStripes]
	ttl   int64                    // nanoseconds
	gen   atomic.Uint64

	now     func() int64  // reads the clock, in nanoseconds
	tick    time.Duration // 0: every get reads now
	last    atomic.Int64  // the latest reading of now, when tick > 0
	ticking atomic.Bool   // timer is armed
	timer   *time.Timer
}

const (
	cacheWays    = 8
	cacheStripes = 64
)

// cacheEntry is immutable once stored.
type cacheEntry struct {
	hash    uint64 // of subject, compared first
	subject dataward.SubjectID
	key     *dataKey
	expires int64 // on the clock of dekCache.now
}

// newDEKCache returns a cache of about size keys kept for ttl. now reads
// the clock in nanoseconds; coarse says it is the system clock, which hits
// need not read (see dekCache).
func newDEKCache(size int, ttl time.Duration, now func() int64, coarse bool) *dekCache {
	sets := uint64(max(1, (size+cacheWays-1)/cacheWays))
	c := &dekCache{
		seed:  maphash.MakeSeed(),
		sets:  sets,
		slots: make([]atomic.Pointer[cacheEntry], sets*cacheWays),
		ttl:   int64(ttl),
		now:   now,
	}
	if coarse {
		c.tick = min(max(ttl/16, time.Millisecond), time.Second)
		c.last.Store(now())
		// The timer holds the cache weakly, so that a Keyring its host has
		// dropped is collected with its keys rather than kept until they
		// expire.
		wc := weak.Make(c)
		c.timer = time.AfterFunc(time.Hour, func() {
			if c := wc.Value(); c != nil {
				c.onTick()
			}
		})
		c.timer.Stop()
	}
	return c
}

// hash returns the hash of subject and the index of its set.
func (c *dekCache) hash(subject dataward.SubjectID) (h, set uint64) {
	h = maphash.String(c.seed, string(subject))
	return h, (h >> 32) * c.sets >> 32 // h's top half scaled to [0, sets)
}

func (c *dekCache) ways(set uint64) []atomic.Pointer[cacheEntry] {
	return c.slots[set*cacheWays : (set+1)*cacheWays]
}

// get returns the cached key of subject, or nil if none is cached or it has
// expired.
func (c *dekCache) get(subject dataward.SubjectID) *dataKey {
	var now int64
	if c.tick > 0 {
		now = c.last.Load()
	} else {
		now = c.now()
	}
	h, set := c.hash(subject)
	ways := c.ways(set)
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.hash == h && e.subject == subject {
			if now >= e.expires {
				return nil
			}
			return e.key
		}
	}
	return nil
}

// generation returns the value to pass to put for a key read from the store
// after this call.
func (c *dekCache) generation() uint64 { return c.gen.Load() }

// put caches key for subject unless a shred happened since gen was read.
func (c *dekCache) put(subject dataward.SubjectID, key *dataKey, gen uint64) {
	now := c.now()
	h, set := c.hash(subject)
	e := &cacheEntry{hash: h, subject: subject, key: key, expires: now + c.ttl}
	if c.tick > 0 {
		c.last.Store(now)
		e.expires -= int64(c.tick) // hits may see the time up to a tick late
	}
	mu := &c.locks[set%cacheStripes]
	mu.Lock()
	if c.gen.Load() != gen {
		mu.Unlock()
		return
	}
	// The slot to fill: the subject's own, else a free or expired one,
	// else the one that expires soonest.
	ways := c.ways(set)
	victim, victimExpires := -1, int64(0)
	for i := range ways {
		old := ways[i].Load()
		if old != nil && old.subject == subject {
			victim = i
			break
		}
		if old == nil || now >= old.expires {
			victim, victimExpires = i, -1<<63
		} else if victim < 0 || old.expires < victimExpires {
			victim, victimExpires = i, old.expires
		}
	}
	ways[victim].Store(e)
	mu.Unlock()
	if c.tick > 0 && !c.ticking.Load() && c.ticking.CompareAndSwap(false, true) {
		c.timer.Reset(c.tick)
	}
}

// evict removes subject and makes every put that read the generation before
// this call a no-op.
func (c *dekCache) evict(subject dataward.SubjectID) {
	c.gen.Add(1)
	_, set := c.hash(subject)
	mu := &c.locks[set%cacheStripes]
	mu.Lock()
	ways := c.ways(set)
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.subject == subject {
			ways[i].Store(nil)
		}
	}
	mu.Unlock()
}

// onTick refreshes the time that hits compare with and drops expired keys.
// It re-arms the timer while keys remain.
func (c *dekCache) onTick() {
	now := c.now()
	c.last.Store(now)
	if c.purge(now) > 0 {
		c.timer.Reset(c.tick)
		return
	}
	c.ticking.Store(false)
	// A put that saw the timer still armed, just before it stopped, must
	// not be left without one.
	if c.len() > 0 && c.ticking.CompareAndSwap(false, true) {
		c.timer.Reset(c.tick)
	}
}

// purge drops the keys expired at now and returns how many remain.
func (c *dekCache) purge(now int64) int {
	n := 0
	for set := range c.sets {
		ways := c.ways(set)
		mu := &c.locks[set%cacheStripes]
		mu.Lock()
		for i := range ways {
			if e := ways[i].Load(); e != nil {
				if now >= e.expires {
					ways[i].Store(nil)
				} else {
					n++
				}
			}
		}
		mu.Unlock()
	}
	return n
}

// len returns the number of cached keys, expired or not.
func (c *dekCache) len() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
