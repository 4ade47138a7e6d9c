package consent

import (
	"fmt"
	"testing"

	"github.com/dataward/dataward"
)

// The cache holds no more subjects than it was given room for.
func TestCacheIsBounded(t *testing.T) {
	c := newCache(100)
	states := make([]state, 3)
	for i := range 10_000 {
		s := dataward.SubjectID(fmt.Sprintf("s%d", i))
		c.put(s, states, 0, c.generation(s))
	}
	if n := len(c.m); n != 100*len(states) {
		t.Fatalf("the cache holds %d states, want 100 subjects' %d", n, 100*len(states))
	}
	many := map[string][]state{}
	for i := range 1000 {
		many[fmt.Sprintf("w%d", i)] = states
	}
	c.putAll(many, 0, c.generations())
	if n := len(c.m); n != 100*len(states) {
		t.Fatalf("after putAll the cache holds %d states, want %d", n, 100*len(states))
	}
}

// A load that raced with a change does not cache what it read before it.
func TestCachePutAfterChangeIsDropped(t *testing.T) {
	c := newCache(1 << 10)
	reg := &registry{index: map[string]int{"p": 0}, purposes: []registered{{Purpose: Purpose{Key: "p"}}}}
	gen := c.generation("s")
	c.apply(reg, Record{Subject: "s", Purpose: "p", Kind: Given, Seq: 1})
	c.put("s", make([]state, 1), 0, gen)
	if _, ok := c.get("s", 0); ok {
		t.Fatal("a state read before a change was cached after it")
	}
	c.put("s", []state{{kind: codeGiven, seq: 1, last: 1}}, 0, c.generation("s"))
	c.apply(reg, Record{Subject: "s", Purpose: "p", Kind: Withdrawn, Seq: 2})
	if v, ok := c.get("s", 0); !ok || v.kind != codeWithdrawn || v.seq != 2 {
		t.Fatalf("after a withdrawal the cache holds %+v, %v", v, ok)
	}
}
