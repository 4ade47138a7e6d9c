package pii

import (
	"fmt"
	"testing"

	"github.com/dataward/dataward"
)

func TestCacheIsBounded(t *testing.T) {
	c := newDEKCache(64, int64(1e12))
	k := &dataKey{id: 1}
	for i := range 10_000 {
		c.put(dataward.SubjectID(fmt.Sprint(i)), k, 0, c.generation())
	}
	if n := c.len(); n > 64 {
		t.Fatalf("cache holds %d keys, bound is 64", n)
	}
}

func TestCacheExpires(t *testing.T) {
	c := newDEKCache(10, 100)
	k := &dataKey{id: 1}
	c.put("a", k, 1000, c.generation())
	if c.get("a", 1099) != k {
		t.Fatal("key missing before its expiry")
	}
	if c.get("a", 1100) != nil {
		t.Fatal("key still served at its expiry")
	}
}

// A reader that fetched a key before a shred must not put it back in the
// cache after the shred evicted it.
func TestCachePutAfterEvictIsDropped(t *testing.T) {
	c := newDEKCache(10, 1000)
	k := &dataKey{id: 1}
	gen := c.generation() // reader: about to fetch from the store
	c.evict("a")          // shred happens meanwhile
	c.put("a", k, 0, gen) // reader: caches what it fetched
	if c.get("a", 0) != nil {
		t.Fatal("a key fetched before a shred was cached after it")
	}
	c.put("a", k, 0, c.generation())
	if c.get("a", 0) != k {
		t.Fatal("a fresh put was dropped")
	}
}
