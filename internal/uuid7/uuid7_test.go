package uuid7

import (
	"regexp"
	"sync"
	"testing"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDsAreUniqueUUIDv7(t *testing.T) {
	g1, g2 := NewGenerator(), NewGenerator()
	now := time.Now()
	seen := make(map[string]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range []*Generator{g1, g2, g1, g2} {
		wg.Go(func() {
			for range 5000 {
				id := g.Next(now)
				mu.Lock()
				if seen[id] {
					t.Errorf("id %s made twice", id)
				}
				seen[id] = true
				mu.Unlock()
				if !uuidV7.MatchString(id) {
					t.Errorf("%s is not a UUIDv7", id)
				}
			}
		})
	}
	wg.Wait()
	if id := New(now); !uuidV7.MatchString(id) {
		t.Errorf("%s is not a UUIDv7", id)
	}
	// Time-ordered across milliseconds.
	if a, b := g1.Next(now), g1.Next(now.Add(time.Millisecond)); a >= b {
		t.Errorf("%s is not before %s", a, b)
	}
}
