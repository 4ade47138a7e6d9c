package consent

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/nanotime"
)

// The cache keeps the state of each subject and registered purpose, derived
// from the subject's records: one map entry per pair, the state held in
// the map itself, so that a check costs one map lookup and no pointer is
// followed from it (a check is bounded by memory latency: a million
// subjects' states do not fit in the processor's caches). States are cached
// for every registered purpose of a subject at once (a subject without
// records for a purpose has a zero state), so that a missing pair means
// "read the subject's history", never "no record".
//
// One map under one lock, rather than shards, because checks far
// outnumber changes, and a shard would be chosen by hashing the subject
// once more on every check.
type cache struct {
	mu    sync.RWMutex
	m     map[cacheKey]cached
	limit int // the subjects kept

	// gens count the changes applied to the subjects of each of a
	// number of groups, so that a load that raced with one does not
	// cache what it read before the change. They are read and written
	// under mu.
	seed maphash.Seed
	gens [cacheGroups]uint64
}

const cacheGroups = 256

// cacheKey is a subject and a purpose's position in the registry (an int
// rather than the purpose's key: smaller map entries, measured faster).
type cacheKey struct {
	subject dataward.SubjectID
	purpose int
}

type cached struct {
	state
	loaded int64 // monotonic nanoseconds when the subject's history was read
}

func newCache(size int) *cache {
	return &cache{m: make(map[cacheKey]cached), limit: max(1, size), seed: maphash.MakeSeed()}
}

// gen returns the count of changes to subject's group. c.mu is held.
func (c *cache) gen(subject dataward.SubjectID) *uint64 {
	return &c.gens[maphash.String(c.seed, string(subject))%cacheGroups]
}

// get returns the cached state of subject and the purpose at position i.
func (c *cache) get(subject dataward.SubjectID, i int) (cached, bool) {
	c.mu.RLock()
	v, ok := c.m[cacheKey{subject, i}]
	c.mu.RUnlock()
	return v, ok
}

// generation returns the count of changes to subject's group, read before
// a load.
func (c *cache) generation(subject dataward.SubjectID) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return *c.gen(subject)
}

// put caches subject's states, one per registered purpose, read at loaded
// when the count of changes to its group was gen, unless a change was
// applied since.
func (c *cache) put(subject dataward.SubjectID, states []state, loaded int64, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(subject, states, loaded, gen)
}

func (c *cache) putLocked(subject dataward.SubjectID, states []state, loaded int64, gen uint64) {
	if *c.gen(subject) != gen {
		return
	}
	limit := c.limit * max(1, len(states))
	for i, st := range states {
		k := cacheKey{subject, i}
		if _, ok := c.m[k]; !ok && len(c.m) >= limit {
			for k := range c.m { // map order is random enough for eviction
				delete(c.m, k)
				break
			}
		}
		c.m[k] = cached{state: st, loaded: loaded}
	}
}

// generations returns the counts of changes of every group, read before a
// load of many subjects.
func (c *cache) generations() [cacheGroups]uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gens
}

// putAll caches the states of many subjects, read at loaded when the
// counts of changes were gens. An empty cache is first made large enough
// for them all, so that it does not grow, table by table, while they are
// added. The lock is released every few thousand subjects, so that checks
// need not wait for them all.
func (c *cache) putAll(subjects map[string][]state, loaded int64, gens [cacheGroups]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 && len(subjects) > 0 {
		var perSubject int
		for _, states := range subjects {
			perSubject = len(states)
			break
		}
		c.m = make(map[cacheKey]cached, min(len(subjects), c.limit)*perSubject)
	}
	n := 0
	for subject, states := range subjects {
		s := dataward.SubjectID(subject)
		c.putLocked(s, states, loaded, gens[maphash.String(c.seed, subject)%cacheGroups])
		if n++; n%4096 == 0 {
			c.mu.Unlock()
			c.mu.Lock()
		}
	}
}

// apply brings a cached subject up to date with rec, a record just stored.
func (c *cache) apply(reg *registry, rec Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.gen(rec.Subject)++
	i, ok := reg.index[rec.Purpose]
	if !ok {
		return // not a purpose this process checks
	}
	k := cacheKey{rec.Subject, i}
	if v, ok := c.m[k]; ok {
		v.apply(rec)
		c.m[k] = v
	}
}

// clear empties the cache.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.gens {
		c.gens[i]++
	}
	clear(c.m)
}

var epoch = time.Now()

// monotonic returns nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(epoch)) }

// state is what the records of one subject and purpose add up to. It is
// kept small: the cache holds one per subject and purpose.
type state struct {
	seq     int64 // the Seq of the latest decisive record, or 0
	expires int64 // its expiry in Unix nanoseconds, or 0
	last    int64 // the Seq of the latest record of any kind
	notice  int32 // the version of the notice it was given under
	kind    kindCode
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

// kindCode is a decisive Kind in a byte.
type kindCode uint8

const (
	noKind kindCode = iota
	codeGiven
	codeRenewed
	codeRefused
	codeWithdrawn
	codeObjected
	codeExpired
)

var kindCodes = map[Kind]kindCode{
	Given: codeGiven, Renewed: codeRenewed, Refused: codeRefused,
	Withdrawn: codeWithdrawn, Objected: codeObjected, Expired: codeExpired,
}

// is reports whether the state's decisive record is of kind k.
func (st *state) is(k Kind) bool { return st.kind != noKind && st.kind == kindCodes[k] }

// given reports whether the decisive record gave consent.
func (st *state) given() bool { return st.kind == codeGiven || st.kind == codeRenewed }

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
		st.kind, st.seq, st.notice, st.pending = kindCodes[r.Kind], r.Seq, int32(min(r.Notice.Version, math.MaxInt32)), false
		st.expires = nanotime.Of(r.Expires)
		st.explicitOverGPC = st.given() && r.Method.explicit() && st.gpcSeen
	}
	if r.Method == MethodGPC {
		st.gpcSeen = true
	}
}

func (st *state) decide(p *registered, clock dataward.Clock) Decision {
	switch st.kind {
	case codeGiven, codeRenewed:
		d := Decision{Allowed: true, Reason: ReasonGiven, Seq: st.seq}
		if st.expires != 0 {
			if clock.Now().UnixNano() >= st.expires {
				return Decision{Reason: ReasonExpired, Seq: st.seq}
			}
			d.Expires = time.Unix(0, st.expires).UTC()
		}
		if int(st.notice) < p.material {
			return Decision{Reason: ReasonNoticeOutdated, Seq: st.seq}
		}
		return d
	case noKind:
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
	case codeWithdrawn:
		return Decision{Reason: ReasonWithdrawn, Seq: st.seq}
	case codeRefused:
		return Decision{Reason: ReasonRefused, Seq: st.seq}
	case codeObjected:
		return Decision{Reason: ReasonObjected, Seq: st.seq}
	}
	return Decision{Reason: ReasonExpired, Seq: st.seq}
}
