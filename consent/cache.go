package consent

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// The cache keeps, per subject, the state of every registered purpose,
// derived from the subject's records. Entries are immutable once published:
// a change replaces the entry, so that checks read one under a shard's read
// lock and decide without holding it.
type cache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]shard
}

const cacheShards = 256

type shard struct {
	mu sync.RWMutex
	m  map[dataward.SubjectID]*entry
	// gen counts the changes applied to the shard, so that a load that
	// raced with one does not cache what it read before the change.
	gen uint64
	_   [64 - 8]byte // keep shards on separate cache lines
}

type entry struct {
	loaded int64   // monotonic nanoseconds when the history was read
	states []state // one per registered purpose, by registry position
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[dataward.SubjectID]*entry)
	}
	return c
}

func (c *cache) shard(subject dataward.SubjectID) *shard {
	return &c.shards[maphash.String(c.seed, string(subject))%cacheShards]
}

func (c *cache) get(subject dataward.SubjectID) *entry {
	s := c.shard(subject)
	s.mu.RLock()
	e := s.m[subject]
	s.mu.RUnlock()
	return e
}

// generation returns the shard's change count, read before a load.
func (c *cache) generation(subject dataward.SubjectID) uint64 {
	s := c.shard(subject)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// put caches e, read when the shard's change count was gen, unless a change
// was applied since; it returns e either way.
func (c *cache) put(subject dataward.SubjectID, e *entry, gen uint64) *entry {
	s := c.shard(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return e
	}
	if _, ok := s.m[subject]; !ok && len(s.m) >= c.perShard {
		for k := range s.m { // map order is random enough for eviction
			delete(s.m, k)
			break
		}
	}
	s.m[subject] = e
	return e
}

// apply brings a cached subject up to date with rec, a record just stored.
func (c *cache) apply(reg *registry, rec Record) {
	s := c.shard(rec.Subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	old := s.m[rec.Subject]
	if old == nil {
		return
	}
	i, ok := reg.index[rec.Purpose]
	if !ok || i >= len(old.states) {
		delete(s.m, rec.Subject) // read it again when it is needed
		return
	}
	e := &entry{loaded: old.loaded, states: append([]state(nil), old.states...)}
	e.states[i].apply(rec)
	s.m[rec.Subject] = e
}

// clear empties the cache.
func (c *cache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		clear(s.m)
		s.mu.Unlock()
	}
}

var epoch = time.Now()

// monotonic returns nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(epoch)) }

// state is what the records of one subject and purpose add up to.
type state struct {
	kind    Kind  // the latest decisive record's kind, or ""
	seq     int64 // its Seq
	expires int64 // its expiry in Unix nanoseconds, or 0
	notice  int   // the version of the notice it was given under
	last    int64 // the Seq of the latest record of any kind
	// pending: a double opt-in was requested after the decisive record.
	pending bool
	// gpcSeen: some record came from a Global Privacy Control signal.
	gpcSeen bool
	// explicitOverGPC: the decisive record is consent the person gave
	// explicitly after a GPC signal, which later signals must not override.
	explicitOverGPC bool
	// lastSignal: the latest record is a Signal.
	lastSignal bool
}

func (st *state) apply(r Record) {
	if r.Seq <= st.last {
		return // already counted
	}
	st.last = r.Seq
	st.lastSignal = r.Kind == Signal
	switch {
	case r.Kind == Requested:
		st.pending = true
	case r.Kind.decisive():
		st.kind, st.seq, st.notice, st.pending = r.Kind, r.Seq, r.Notice.Version, false
		st.expires = 0
		if !r.Expires.IsZero() {
			st.expires = r.Expires.UnixNano()
		}
		st.explicitOverGPC = (r.Kind == Given || r.Kind == Renewed) && r.Method.explicit() && st.gpcSeen
	}
	if r.Method == MethodGPC {
		st.gpcSeen = true
	}
}

func (st *state) decide(p *registered, clock dataward.Clock) Decision {
	switch st.kind {
	case Given, Renewed:
		d := Decision{Allowed: true, Reason: ReasonGiven, Seq: st.seq}
		if st.expires != 0 {
			if clock.Now().UnixNano() >= st.expires {
				return Decision{Reason: ReasonExpired, Seq: st.seq}
			}
			d.Expires = time.Unix(0, st.expires).UTC()
		}
		if st.notice < p.material {
			return Decision{Reason: ReasonNoticeOutdated, Seq: st.seq}
		}
		return d
	case "":
		if st.pending {
			return Decision{Reason: ReasonPending}
		}
		switch p.Mechanism {
		case OptOut:
			return Decision{Allowed: true, Reason: ReasonOptOutDefault}
		case NoticeOnly:
			return Decision{Allowed: true, Reason: ReasonNoticeOnly}
		}
		return Decision{Reason: ReasonNoRecord}
	}
	if st.pending {
		return Decision{Reason: ReasonPending, Seq: st.seq}
	}
	switch st.kind {
	case Withdrawn:
		return Decision{Reason: ReasonWithdrawn, Seq: st.seq}
	case Refused:
		return Decision{Reason: ReasonRefused, Seq: st.seq}
	case Objected:
		return Decision{Reason: ReasonObjected, Seq: st.seq}
	}
	return Decision{Reason: ReasonExpired, Seq: st.seq}
}
