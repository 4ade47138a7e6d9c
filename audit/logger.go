package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward/internal/uuid7"

	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
)

// Policy says what [Logger.Record] does with an event of a class, chosen by
// the host per class with [Options.Policies].
type Policy uint8

const (
	// Durable: Record returns once the event is durably stored. If the
	// store fails, the Logger retries until it succeeds, and Record waits
	// (until its context ends). The default.
	Durable Policy = iota
	// FailClosed: Record returns once the event is durably stored, or
	// returns the store's error at once, so that the host can refuse the
	// action it was about to take.
	//
	// An error does not prove that the event is absent from the log: an
	// append whose reply was lost (a connection cut during the commit)
	// may have committed all the same; with a [SyncStore], the event is
	// stored, and visible, when the Sync that should have made it durable
	// failed. The host refuses the action; the log may still show the
	// attempt, never the event twice: a failed event is never stored
	// again.
	FailClosed
	// Buffered: Record returns at once; the event is stored with the next
	// batch. When the buffer is full (Options.BufferSize), or the store
	// fails, events are dropped, and the Logger then stores a gap record
	// (action "audit.gap") that counts them: a drop is never silent.
	Buffered
)

// String returns "durable", "fail-closed" or "buffered".
func (p Policy) String() string {
	switch p {
	case Durable:
		return "durable"
	case FailClosed:
		return "fail-closed"
	case Buffered:
		return "buffered"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// GapAction is the action of the record that counts dropped events.
const GapAction = "audit.gap"

// Options configure a [Logger]. HashKey is required unless Fields makes
// every field Public, since some fields are Sensitive by default; the
// other fields have working defaults.
type Options struct {
	// HashKey keys the hashes of Sensitive values (at least 16 bytes; 32
	// random bytes are best). Keep it secret and stable: with it, values
	// can be matched across events and queried by; without it, they cannot
	// be guessed. Required unless every field is Public.
	HashKey []byte
	// Sealer encrypts Secret values under the subject's key: a
	// *pii.Keyring. Without one, Secret values are stored as Sensitive.
	Sealer Sealer
	// Fields overrides the Sensitivity of event fields; fields not listed
	// keep their defaults (see the Field constants).
	Fields map[Field]Sensitivity

	// Policies chooses the delivery policy per event class; classes not
	// listed get DefaultPolicy.
	Policies      map[string]Policy
	DefaultPolicy Policy
	// BufferSize bounds the events waiting to be stored (default 4096).
	// Durable and FailClosed callers wait for room; Buffered events are
	// dropped and counted.
	BufferSize int `validate:"gte=0,lte=1000000"`
	// MaxBatch bounds the events stored by one append (default 256).
	MaxBatch int `validate:"gte=0,lte=100000"`
	// FlushDelay is how long a Buffered event may wait for others to share
	// its append (default 10ms).
	FlushDelay time.Duration `validate:"gte=0"`

	// Signer signs checkpoints (an Ed25519 note signer from
	// note.NewSigner). Without one, no checkpoints are made.
	Signer note.Signer
	// Origin is the first line of each checkpoint, naming the log (default:
	// the signer's name).
	Origin string
	// CheckpointEvery makes a checkpoint once this many events have been
	// stored since the last one (default 1000).
	CheckpointEvery int64 `validate:"gte=0"`
	// CheckpointInterval makes a checkpoint when an append finds the last
	// one older than this (default one minute).
	CheckpointInterval time.Duration `validate:"gte=0"`

	// Clock gives the time of events that have none. Nil means the system
	// clock.
	Clock dataward.Clock
	// OnError, if set, is told about store failures that no caller sees:
	// retries of Durable events and failures of Buffered ones. It must not
	// block.
	OnError func(error)
}

// Logger records events in a tamper-evident log. It is safe for concurrent
// use; packages take a *Logger in their options, as they take a
// *slog.Logger.
//
// Concurrent Record calls share appends (group commit): while one append is
// in flight, the events that arrive wait and go together in the next one.
// With a [SyncStore], the next append is made while the previous one is
// being made durable (see syncLoop).
type Logger struct {
	store   Store
	syncer  SyncStore // store, if it is one
	hashKey []byte
	macs    *sync.Pool       // of *macState keyed with hashKey
	ids     *uuid7.Generator // event ids: a random base counted from, not ten random bytes per event
	sealer  Sealer
	fields  map[Field]Sensitivity
	sens    fieldSensitivities // the same as fields
	opts    Options

	mu       sync.Mutex
	roomCond *sync.Cond // signalled when the queue shrinks
	queue    []*pending
	flushing bool
	batch    []*pending // reused by the flushing role
	// idle, made by a Close that waits, is closed (and cleared) when the
	// flushing role is given up or the syncing goroutine ends: what Close
	// waits for, with its context.
	idle chan struct{}

	// With a SyncStore: events stored by AppendUnsynced but not yet
	// covered by a Sync, which the syncing goroutine delivers once a Sync
	// that started after their append succeeds.
	toSync  []*pending
	syncing bool // a goroutine runs syncLoop
	// syncSize is the number of events in the Sync in flight, if any; the
	// flushing role waits on grown, while that Sync runs, for the queue
	// to grow or the Sync to end (see flush).
	syncSize int
	// freed is the number of callers that the last Sync to end delivered
	// to (its events but the Buffered ones): while the next Sync runs,
	// they are the callers that can record again, and the flushing role
	// waits for no more than that many.
	freed       int
	grown       *sync.Cond
	waitingRoom bool // the flushing role waits on grown

	timer   *time.Timer // pending flush of Buffered events
	dropped int64       // Buffered events dropped since the last gap record
	closed  bool

	tree treeState // guarded by the flushing role
}

// pending is one event waiting to be stored.
type pending struct {
	event  Event // protected
	policy Policy
	now    time.Time // the clock when the event was recorded, if Record read it
	// id is the event's ID when Record made it (genID), event.ID being
	// then "": a string of its own would be garbage, allocated for every
	// event, and a string over these bytes (unsafe.String) would change
	// when p is reused, under whoever still held it (an error message, a
	// store that kept it). The bytes are only ever copied: into the
	// encoding, or by eventID.
	id    [36]byte
	genID bool
	// The outcome: err, once finished is set by whoever stores the event
	// (finished is read by the flushing caller, while a retrying or the
	// syncing goroutine may set it). A caller that waits on another's
	// flush, or on the syncing goroutine, gets it through done too.
	err      error
	finished atomic.Bool
	done     chan error // nil for Buffered events, and for the flushing caller's own until store1 hands it to a retrying goroutine, unless the store is a SyncStore
	// spare is a channel for done that this pending kept from an earlier
	// use: empty, since its caller received from it.
	spare chan error
	// own holds event's copies of the caller's slices (see protectEvent),
	// kept from one use to the next.
	own eventSlices
}

// eventSlices are the slices of an Event that Record copies, since the
// caller may reuse its own once Record returns: at once for a Buffered
// event, before it is stored. Kept with a pending from one use to the
// next, they cost no allocation once it has held events as large.
type eventSlices struct {
	roles    []string
	changes  []Change
	metadata []Attr
}

// maxKeptSlice is the longest slice a recycled pending keeps: a rare event
// with many changes should not pin their memory for as long as the pool
// keeps the pending.
const maxKeptSlice = 64

// reset forgets the values s holds, so that a recycled pending pins no
// personal data, and drops slices longer than maxKeptSlice.
func (s *eventSlices) reset() {
	s.roles = resetSlice(s.roles)
	s.changes = resetSlice(s.changes)
	s.metadata = resetSlice(s.metadata)
}

func resetSlice[T any](s []T) []T {
	if cap(s) > maxKeptSlice {
		return nil
	}
	clear(s)
	return s[:0]
}

// pendings recycles pending events, which are large: a Record that
// allocated one would spend more on it, and on collecting it, than on
// encoding the event.
var pendings = sync.Pool{New: func() any { return new(pending) }}

// newPending returns a pending event holding e.
func newPending(e Event) *pending {
	p := pendings.Get().(*pending)
	p.event = e
	return p
}

// ch returns an empty channel for p.done.
func (p *pending) ch() chan error {
	if p.spare != nil {
		return p.spare
	}
	return make(chan error, 1)
}

// free recycles p. Only the owner of p calls it, once nothing else refers
// to p: the caller of Record once its event is delivered (it received the
// outcome, or stored the event itself), or the flusher for a Buffered
// event, which has no caller waiting.
func (p *pending) free() {
	spare := p.spare
	if p.done != nil {
		spare = p.done
	}
	p.event, p.policy, p.now, p.err, p.done, p.spare, p.genID = Event{}, 0, time.Time{}, nil, nil, spare, false
	p.own.reset()
	p.finished.Store(false)
	pendings.Put(p)
}

// eventID returns the ID of p's event, in a string of its own: for the
// rare paths that keep it (a failed append), not for every event.
func (p *pending) eventID() string {
	if p.genID {
		return string(p.id[:])
	}
	return p.event.ID
}

// deliver reports the outcome of storing p.
func (p *pending) deliver(err error) {
	p.err = err
	p.finished.Store(true)
	if p.done != nil {
		p.done <- err
	}
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit: logger is closed")

// New returns a Logger that keeps its log in store.
func New(store Store, opts *Options) (*Logger, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ve := &dataward.ValidationError{Package: "audit"}
	if store == nil {
		ve.Add("store", "is required")
	}
	if err := validStruct(&o); err != nil {
		var v *dataward.ValidationError
		if errors.As(err, &v) {
			ve.Problems = append(ve.Problems, v.Problems...)
		}
	}
	fields := make(map[Field]Sensitivity, len(defaultFields))
	for f, s := range defaultFields {
		fields[f] = s
	}
	for f, s := range o.Fields {
		if _, ok := defaultFields[f]; !ok {
			ve.Add("Options.Fields", fmt.Sprintf("has unknown field %q", f))
			continue
		}
		if s > Secret {
			ve.Add("Options.Fields", fmt.Sprintf("gives %q an unknown sensitivity %d", f, s))
			continue
		}
		if f == FieldSubject && s == Secret {
			ve.Add("Options.Fields", "cannot make the subject Secret: it names the key that seals the others")
			continue
		}
		fields[f] = s
	}
	needsKey := false
	for _, s := range fields {
		needsKey = needsKey || s != Public
	}
	if needsKey && len(o.HashKey) < 16 {
		ve.Add("Options.HashKey", "must be at least 16 bytes when a field is Sensitive or Secret")
	}
	for class, p := range o.Policies {
		if p > Buffered {
			ve.Add("Options.Policies", fmt.Sprintf("gives class %q an unknown policy %d", class, p))
		}
	}
	if o.DefaultPolicy > Buffered {
		ve.Add("Options.DefaultPolicy", "is unknown")
	}
	if o.Origin != "" && (!utf8.ValidString(o.Origin) || hasControl(o.Origin)) {
		// It is the first line of each checkpoint (see FormatCheckpoint).
		ve.Add("Options.Origin", "must be one line of valid UTF-8 without control characters")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if o.BufferSize == 0 {
		o.BufferSize = 4096
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 256
	}
	if o.FlushDelay == 0 {
		o.FlushDelay = 10 * time.Millisecond
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 1000
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = time.Minute
	}
	if o.Signer != nil && o.Origin == "" {
		o.Origin = o.Signer.Name()
	}
	o.Clock = dataward.ClockOrSystem(o.Clock)
	syncer, _ := store.(SyncStore)
	l := &Logger{
		store:   store,
		syncer:  syncer,
		hashKey: append([]byte(nil), o.HashKey...),
		sealer:  o.Sealer,
		fields:  fields,
		sens:    sensitivitiesOf(fields),
		opts:    o,
	}
	l.macs = newMACPool(l.hashKey)
	l.ids = uuid7.NewGenerator()
	l.roomCond = sync.NewCond(&l.mu)
	l.grown = sync.NewCond(&l.mu)
	l.tree.size = -1 // unknown until the first append reads it
	return l, nil
}

// Record stores e in the log, as its class's [Policy] says. It fills in a
// missing ID, Time and Actor (from the context's [dataward.Actor]), checks
// e, and protects its non-public fields before anything is stored or
// queued.
//
// It returns a *dataward.ValidationError for an event without an action or
// over a size limit, naming the field; the store's error for a FailClosed
// event it could not store; the context's error if ctx ends while Record
// waits (a Durable event is stored all the same once the store allows);
// [ErrClosed] after [Logger.Close].
func (l *Logger) Record(ctx context.Context, e Event) error {
	p := newPending(e) // the one copy of e; prepared in place
	var err error
	if p.now, p.genID, err = l.prepare(ctx, p); err != nil {
		p.free()
		return err
	}
	p.policy = l.opts.DefaultPolicy
	if policy, ok := l.opts.Policies[p.event.Class]; ok {
		p.policy = policy
	}

	l.mu.Lock()
	if p.policy == Buffered {
		switch {
		case l.closed:
			l.mu.Unlock()
			p.free()
			return ErrClosed
		case len(l.queue) >= l.opts.BufferSize:
			l.dropped++
			l.mu.Unlock()
			p.free()
			return nil
		default:
			l.queue = append(l.queue, p) // freed once stored or dropped
			l.signalGrown()
			if !l.flushing && l.timer == nil {
				l.timer = time.AfterFunc(l.opts.FlushDelay, l.flushBuffered)
			}
		}
		l.mu.Unlock()
		return nil
	}
	for len(l.queue) >= l.opts.BufferSize && !l.closed {
		l.roomCond.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		p.free()
		return ErrClosed
	}
	// The first caller to find no flush in progress stores the queue,
	// its own event among the first; the others wait for it.
	lead := !l.flushing
	if lead {
		l.flushing = true
	}
	if !lead || l.syncer != nil { // the syncing goroutine delivers to the lead too
		p.done = p.ch()
	}
	l.queue = append(l.queue, p)
	l.signalGrown()
	l.mu.Unlock()
	if lead {
		l.flush(ctx, p)
		if p.done == nil { // stored, or failed, by this caller's own flush
			err := p.err
			p.free()
			return err
		}
	}
	select {
	case err := <-p.done:
		p.free()
		return err
	case <-ctx.Done():
		// p stays queued, or in flight: whoever stores it delivers to
		// p.done, which has room, and p is left to the garbage collector.
		return fmt.Errorf("audit: record %q: %w", e.Action, ctx.Err())
	}
}

// prepare fills in, checks and protects p's event. A missing ID is made in
// p.id, and reported by genID (the event's ID stays ""; encodeRecord writes
// p.id in its place). It returns the clock reading it took for a missing
// ID or Time, if any.
func (l *Logger) prepare(ctx context.Context, p *pending) (now time.Time, genID bool, err error) {
	e, id := &p.event, &p.id
	if e.ID == "" || e.Time.IsZero() {
		now = l.opts.Clock.Now()
		if e.ID == "" {
			l.ids.Put(id, now)
			genID = true
		}
		if e.Time.IsZero() {
			e.Time = now
		}
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Actor.isZero() {
		if a, ok := dataward.ActorFrom(ctx); ok {
			e.Actor = ActorOf(a)
		}
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	if err := check(e); err != nil {
		return now, genID, err
	}
	if len(l.hashKey) == 0 {
		for _, a := range e.Metadata {
			if a.Sensitivity != Public {
				return now, genID, (&dataward.ValidationError{Package: "audit"}).Add("metadata["+a.Key+"]",
					"is "+a.Sensitivity.String()+", which needs Options.HashKey").Err()
			}
		}
	}
	if err := l.protectEvent(ctx, e, &p.own); err != nil {
		return now, genID, fmt.Errorf("audit: record %q: protect fields: %w", e.Action, err)
	}
	idLen := len(e.ID)
	if genID {
		idLen = len(id)
	}
	if n := encodedSize(e, idLen); n > MaxEventSize {
		return now, genID, (&dataward.ValidationError{Package: "audit"}).Add("event",
			fmt.Sprintf("is %d bytes when stored, more than %d", n, MaxEventSize)).Err()
	}
	return now, genID, nil
}

// flush is run by the one caller that holds the flushing role: it stores
// the queue in batches until the queue is empty or, once until its own
// event (mine, nil for none) is stored, hands the role to a new goroutine
// so that no caller works for others for ever. ctx is the context of
// mine's caller: should it end while the role waits for a Sync, the role
// is handed on too, and the caller stops waiting.
func (l *Logger) flush(ctx context.Context, mine *pending) {
	var stop func() bool // stops the wake-up registered on ctx, if any
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		l.mu.Lock()
		// With a SyncStore, the events queued now cannot be made durable
		// before the Sync in flight ends anyway: rather than store a few
		// of them at once, and the others in appends of their own, wait
		// until enough are queued (see enoughQueued), or until it ends.
		// Concurrent callers then settle into large batches, each stored
		// while the previous one is synced. Nor is a batch stored while
		// another waits for a Sync to take it: what is stored but not
		// yet durable stays within two batches (the one being synced,
		// and the next), and the queue within BufferSize, however slow
		// (or failing) the Syncs are.
		for !l.closed && (mine == nil || !mine.delivered()) && (mine == nil || ctx.Err() == nil) &&
			(len(l.toSync) > 0 || l.syncSize > 0 && len(l.queue) < l.enoughQueued()) {
			if mine != nil && stop == nil && ctx.Done() != nil {
				stop = context.AfterFunc(ctx, func() {
					l.mu.Lock()
					l.grown.Broadcast()
					l.mu.Unlock()
				})
			}
			l.waitingRoom = true
			l.grown.Wait()
			l.waitingRoom = false
		}
		if mine != nil && mine.done != nil && !mine.delivered() && ctx.Err() != nil {
			// The caller stops waiting (Record returns ctx's error);
			// whoever flushes next stores its event, and delivers to
			// mine.done.
			l.mu.Unlock()
			go l.flush(context.Background(), nil)
			return
		}
		if len(l.queue) == 0 && l.dropped == 0 {
			l.flushing = false
			l.wakeClose()
			l.mu.Unlock()
			return
		}
		if mine != nil && mine.delivered() && len(l.queue) > 0 {
			// Our event is stored: pass the work on.
			l.mu.Unlock()
			go l.flush(context.Background(), nil)
			return
		}
		n := min(len(l.queue), l.opts.MaxBatch)
		if l.syncSize > 0 && n > l.syncSize {
			// A batch larger than the one being synced takes the mean
			// of the two, and leaves the rest for the next: callers that
			// record again as soon as they can then settle into batches
			// of equal size, each stored while the other is synced,
			// rather than a large one and a small one for ever, where
			// the large one's append outlasts the small one's Sync.
			n = (n + l.syncSize + 1) / 2
		}
		batch := append(l.batch[:0], l.queue[:n]...)
		l.batch = batch[:0]
		l.queue = append(l.queue[:0], l.queue[n:]...)
		if l.dropped > 0 {
			batch = append(batch, l.gapRecord(l.dropped))
			l.dropped = 0
		}
		l.roomCond.Broadcast()
		l.mu.Unlock()
		if l.store1(batch, mine) {
			return // the retrying goroutine flushes on
		}
	}
}

// enoughQueued is the number of queued events that the flushing role
// waits for while a Sync is in flight: as many as that Sync holds, or a
// full batch, or a full queue, and no more than the callers that the
// previous Sync freed. l.mu is held.
//
// The last bound matters when callers record again as soon as they can (a
// busy server): the callers of the Sync in flight cannot come back before
// it ends, so a flushing role waiting for as many as it holds would wait
// for that Sync to end whenever the previous one freed fewer, leaving the
// store idle for a whole Sync every other batch.
func (l *Logger) enoughQueued() int {
	n := min(l.syncSize, l.opts.MaxBatch, l.opts.BufferSize)
	if l.freed > 0 {
		n = min(n, l.freed)
	}
	return n
}

// signalGrown wakes the flushing role if it waits for the queue to grow
// and it now has. l.mu is held.
func (l *Logger) signalGrown() {
	if l.waitingRoom && len(l.queue) >= l.enoughQueued() {
		l.grown.Signal()
	}
}

func (p *pending) delivered() bool { return p.finished.Load() }

// flushBuffered runs when Buffered events have waited FlushDelay.
func (l *Logger) flushBuffered() {
	l.mu.Lock()
	l.timer = nil
	if l.flushing {
		l.mu.Unlock()
		return
	}
	l.flushing = true
	l.mu.Unlock()
	l.flush(context.Background(), nil)
}

// gapRecord is the event that counts n dropped events.
func (l *Logger) gapRecord(n int64) *pending {
	now := l.opts.Clock.Now().UTC().Truncate(time.Microsecond)
	return &pending{
		event: Event{
			ID: uuid7.New(now), Time: now, Action: GapAction, Outcome: Failure,
			Actor:    Actor{ID: "dataward/audit", Kind: dataward.ActorSystem},
			Reason:   fmt.Sprintf("%d buffered events were dropped", n),
			Metadata: []Attr{{Key: "dropped", Value: fmt.Sprint(n)}},
		},
		policy: Durable,
	}
}

// store1 stores one batch, following each event's policy on failure. If
// the batch must be retried and mine is not nil (the caller of Record that
// flushes), store1 hands the retries, and the flushing role with them, to
// a new goroutine, so that the caller neither works for others while the
// store is down nor waits past its context; it then reports true, and
// mine.done carries the outcome unless mine was already delivered (a
// FailClosed event that failed, whose caller reads mine.err).
func (l *Logger) store1(batch []*pending, mine *pending) (handedOff bool) {
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		err := l.append(ctx, batch)
		if err == nil {
			if l.syncer != nil {
				l.syncLater(batch)
			} else {
				l.delivered(batch)
			}
			return false
		}
		// FailClosed callers learn at once; Buffered events are dropped
		// and counted; Durable ones are retried.
		batch = l.failed(batch, "", err, true)
		if len(batch) == 0 {
			if l.opts.OnError != nil {
				l.opts.OnError(err)
			}
			return false
		}
		if l.opts.OnError != nil {
			l.opts.OnError(fmt.Errorf("audit: storing %d durable events, will retry: %w", len(batch), err))
		}
		if mine != nil {
			// The flushing caller does not wait for the store to come
			// back: not for its own Durable event (it waits on mine.done,
			// and can stop when its context ends), nor for others' when
			// its own was already delivered (a FailClosed event, which
			// failed just now, or one stored earlier).
			if !mine.delivered() && mine.done == nil {
				mine.done = mine.ch() // before anyone can deliver to it
			}
			go l.retry(batch)
			return true
		}
		time.Sleep(retryDelay(attempt))
	}
}

// failed applies the event policies to batch after err: FailClosed
// callers get err (prefixed by what), Buffered events are let go, and
// counted as dropped if dropped is set, and the Durable events that remain
// are returned, in batch's memory, to be tried again.
func (l *Logger) failed(batch []*pending, what string, err error, dropped bool) []*pending {
	kept := batch[:0]
	for _, p := range batch {
		switch p.policy {
		case FailClosed:
			p.deliver(fmt.Errorf("audit: record %q: %s%w", p.event.Action, what, err))
		case Buffered:
			if dropped {
				l.mu.Lock()
				l.dropped++
				l.mu.Unlock()
			}
			p.free()
		default:
			kept = append(kept, p)
		}
	}
	clear(batch[len(kept):])
	return kept
}

// retryDelay is the wait before the next attempt after attempt failed:
// 10 ms, doubling, at most 5 s.
func retryDelay(attempt int) time.Duration {
	return min(time.Duration(1<<min(attempt, 10))*10*time.Millisecond, 5*time.Second)
}

// delivered reports to the events of batch that they are stored, and
// returns the number of callers it freed.
func (l *Logger) delivered(batch []*pending) (callers int) {
	for _, p := range batch {
		if p.policy == Buffered {
			p.free() // no caller waits for it
		} else {
			p.deliver(nil)
			callers++
		}
	}
	return callers
}

// syncLater hands batch, stored by AppendUnsynced, to the syncing
// goroutine, starting one if none runs: the flushing role can go on with
// the next batch while this one is made durable. The events are copied
// out of batch, which the flushing role reuses.
func (l *Logger) syncLater(batch []*pending) {
	l.mu.Lock()
	l.toSync = append(l.toSync, batch...)
	start := !l.syncing
	l.syncing = true
	l.mu.Unlock()
	if start {
		go l.syncLoop()
	}
}

// syncLoop makes the stored events durable, and delivers them, until none
// are left; events stored while a Sync is in flight share the next one.
//
// Why an event is durable when its Record returns: it was stored by an
// AppendUnsynced that returned before the Sync that delivers it began
// (syncLater runs after AppendUnsynced returns, and a Sync takes only
// what toSync held when it began), and a SyncStore's Sync makes durable
// every batch whose AppendUnsynced returned before it was called. Since a
// crash loses at most a suffix of unsynced batches, never a synced one,
// the log that survives holds every acknowledged event, in its place.
func (l *Logger) syncLoop() {
	ctx := context.Background()
	var batch []*pending
	freed := -1 // none delivered yet by this goroutine
	for {
		l.mu.Lock()
		if freed >= 0 {
			l.freed = freed
		}
		batch, l.toSync = l.toSync, batch[:0]
		l.syncSize = len(batch)
		l.grown.Broadcast() // the previous Sync ended, and toSync is empty
		if len(batch) == 0 {
			l.syncing = false
			l.wakeClose()
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		for attempt := 0; ; attempt++ {
			err := l.syncer.Sync(ctx)
			if err == nil {
				break
			}
			// As store1 does: FailClosed callers learn at once (their
			// events stay stored, and visible, and are never stored
			// again), Durable events wait for a Sync that succeeds, and
			// Buffered ones, stored, are let go uncounted: only their
			// durability is in doubt.
			batch = l.failed(batch, "make durable: ", err, false)
			l.mu.Lock()
			l.grown.Broadcast() // a flushing caller whose event failed stops waiting
			l.mu.Unlock()
			if l.opts.OnError != nil {
				l.opts.OnError(fmt.Errorf("audit: making %d stored events durable, will retry: %w", len(batch), err))
			}
			if len(batch) == 0 {
				break
			}
			time.Sleep(retryDelay(attempt))
		}
		freed = l.delivered(batch)
		clear(batch)
	}
}

// wakeClose wakes a Close waiting for the flushing role to be given up, or
// for the syncing goroutine to end. l.mu is held.
func (l *Logger) wakeClose() {
	if l.idle != nil {
		close(l.idle)
		l.idle = nil
	}
}

// retry stores batch, retrying until it can, then goes on flushing the
// queue: the flushing role came with the batch.
func (l *Logger) retry(batch []*pending) {
	l.store1(batch, nil)
	l.flush(context.Background(), nil)
}

// Close stores every queued event (and a gap record if events were
// dropped), makes a last checkpoint if a Signer is set, and makes later
// Record calls fail with [ErrClosed]. It waits for the store until ctx
// ends.
func (l *Logger) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	l.roomCond.Broadcast()
	l.grown.Broadcast()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	// Take the flushing role, and drain the queue; or wait for whoever
	// holds the role to finish, and for the syncing goroutine to deliver
	// what was stored.
	for {
		l.mu.Lock()
		if !l.flushing && (len(l.queue) > 0 || l.dropped > 0) {
			l.flushing = true
			l.mu.Unlock()
			l.flush(context.Background(), nil)
			continue
		}
		if !l.flushing && !l.syncing {
			l.mu.Unlock()
			break
		}
		if l.idle == nil {
			l.idle = make(chan struct{})
		}
		idle := l.idle
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("audit: close: %w", ctx.Err())
		case <-idle:
		}
	}
	if l.opts.Signer != nil {
		if _, err := l.Checkpoint(ctx); err != nil && !errors.Is(err, errEmptyLog) {
			return err
		}
	}
	return nil
}
