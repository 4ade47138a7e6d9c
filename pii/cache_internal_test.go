package pii

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataward/dataward"
)

// fakeNow is a clock for the cache that the test moves by hand.
type fakeNow struct{ t atomic.Int64 }

func (f *fakeNow) now() int64 { return f.t.Load() }

func TestCacheIsBounded(t *testing.T) {
	var clock fakeNow
	c := newDEKCache(64, time.Hour, clock.now, false)
	k := &dataKey{id: 1}
	for i := range 10_000 {
		c.put(dataward.SubjectID(fmt.Sprint(i)), k, c.generation())
	}
	if n := c.len(); n > 64 {
		t.Fatalf("cache holds %d keys, bound is 64", n)
	}
}

func TestCacheExpires(t *testing.T) {
	var clock fakeNow
	clock.t.Store(1000)
	c := newDEKCache(10, 100, clock.now, false)
	k := &dataKey{id: 1}
	c.put("a", k, c.generation())
	clock.t.Store(1099)
	if c.get("a") != k {
		t.Fatal("key missing before its expiry")
	}
	clock.t.Store(1100)
	if c.get("a") != nil {
		t.Fatal("key still served at its expiry")
	}
}

// With the system clock, hits do not read the clock; the timer must still
// expire keys within the TTL, drop them from memory, and stop once the
// cache is empty.
func TestCacheCoarseClockExpiresAndStops(t *testing.T) {
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	const ttl = 80 * time.Millisecond
	c := newDEKCache(10, ttl, now, true)
	k := &dataKey{id: 1}
	c.put("a", k, c.generation())
	put := time.Now()
	if c.get("a") != k {
		t.Fatal("key missing just after put")
	}
	for c.get("a") != nil {
		if time.Since(put) > ttl {
			// Allow for a late timer on a loaded machine, but no more.
			if time.Since(put) > ttl+2*time.Second {
				t.Fatalf("key still served %v after put, TTL %v", time.Since(put), ttl)
			}
		}
		time.Sleep(time.Millisecond)
	}
	if age := time.Since(put); age < ttl-2*c.tick {
		t.Fatalf("key expired after %v, TTL %v", age, ttl)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.len() > 0 || c.ticking.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("timer still running with %d keys cached, all expired", c.len())
		}
		time.Sleep(time.Millisecond)
	}
	// A later put starts it again.
	c.put("b", k, c.generation())
	if !c.ticking.Load() {
		t.Fatal("put did not restart the timer")
	}
	if c.get("b") != k {
		t.Fatal("key missing just after put")
	}
}

// A reader that fetched a key before a shred must not put it back in the
// cache after the shred evicted it.
func TestCachePutAfterEvictIsDropped(t *testing.T) {
	var clock fakeNow
	c := newDEKCache(10, 1000, clock.now, false)
	k := &dataKey{id: 1}
	gen := c.generation() // reader: about to fetch from the store
	c.evict("a")          // shred happens meanwhile
	c.put("a", k, gen)    // reader: caches what it fetched
	if c.get("a") != nil {
		t.Fatal("a key fetched before a shred was cached after it")
	}
	c.put("a", k, c.generation())
	if c.get("a") != k {
		t.Fatal("a fresh put was dropped")
	}
}

// The timer must not keep a dropped cache, and the keys in it, alive.
func TestCacheTimerDoesNotKeepCacheAlive(t *testing.T) {
	collected := make(chan struct{})
	func() {
		start := time.Now()
		c := newDEKCache(10, time.Hour, func() int64 { return int64(time.Since(start)) }, true)
		c.put("a", &dataKey{id: 1}, c.generation())
		if !c.ticking.Load() {
			t.Fatal("timer not armed")
		}
		runtime.AddCleanup(c, func(ch chan struct{}) { close(ch) }, collected)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("a dropped cache with an armed timer was not collected")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Readers take no lock: hammer the cache from readers, writers and
// shredders at once, for the race detector, and check that every hit
// returns the key put for that subject.
func TestCacheConcurrentUse(t *testing.T) {
	start := time.Now()
	c := newDEKCache(64, time.Hour, func() int64 { return int64(time.Since(start)) }, true)
	keys := make([]*dataKey, 200)
	subjects := make([]dataward.SubjectID, len(keys))
	for i := range keys {
		keys[i] = &dataKey{id: uint32(i)}
		subjects[i] = dataward.SubjectID(fmt.Sprint("subject-", i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for n := g; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := n % len(keys)
				switch g {
				case 0, 1:
					if k := c.get(subjects[i]); k != nil && k != keys[i] {
						t.Errorf("get(%s) returned the key of subject %d", subjects[i], k.id)
						return
					}
				case 2:
					c.put(subjects[i], keys[i], c.generation())
				case 3:
					c.evict(subjects[i])
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := c.len(); n > 64 {
		t.Fatalf("cache holds %d keys, bound is 64", n)
	}
}

// A set that is full of live keys makes room by dropping the key that
// expires soonest, and a put for a cached subject replaces its entry.
func TestCacheReplacesSoonestToExpire(t *testing.T) {
	var clock fakeNow
	c := newDEKCache(cacheWays, time.Hour, clock.now, false) // one set
	keys := make([]*dataKey, cacheWays+1)
	for i := range keys {
		keys[i] = &dataKey{id: uint32(i)}
	}
	for i := range cacheWays {
		clock.t.Store(int64(i))
		c.put(dataward.SubjectID(fmt.Sprint(i)), keys[i], c.generation())
	}
	c.put("0", keys[0], c.generation()) // refresh: "1" is now the oldest
	if n := c.len(); n != cacheWays {
		t.Fatalf("re-putting a cached subject changed the count to %d", n)
	}
	c.put("new", keys[cacheWays], c.generation())
	if c.get("1") != nil {
		t.Fatal("the key that expires soonest was kept")
	}
	for _, s := range []dataward.SubjectID{"0", "2", "new"} {
		if c.get(s) == nil {
			t.Fatalf("%s was dropped", s)
		}
	}
}
