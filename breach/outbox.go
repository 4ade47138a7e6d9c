package breach

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/uuid7"
)

// ErrLeaseLost is returned by [OutboxStore.Finish] when the worker no
// longer holds the delivery (its lease expired and another took it).
var ErrLeaseLost = errors.New("breach: delivery lease lost")

// DeliveryState is where a delivery is.
type DeliveryState string

// The states of a delivery. A pending delivery being sent holds a lease.
const (
	Pending   DeliveryState = "pending"   // to be sent (again) at NextAt
	Delivered DeliveryState = "delivered" // the notifier gave proof of delivery
	Failed    DeliveryState = "failed"    // permanently failed, or out of attempts: a person must act
)

// Delivery is one notice to one recipient in the outbox: enqueued once per
// incident, regime, party, phase and recipient (its Key).
type Delivery struct {
	// Message is what is delivered; its ID, a UUIDv7, is the idempotency
	// key and Message-ID of every attempt.
	Message
	Key string // what makes it unique: incident, regime, party, phase, channel and a hash of the address

	State      DeliveryState
	Attempts   int       // attempts claimed so far
	NextAt     time.Time // when it is due (again)
	LeaseOwner string    // the worker holding it, while one does
	LeaseUntil time.Time // when that lease ends
	Created    time.Time
}

// Receipt is the proof of one attempt at a delivery: when, through which
// channel, and what came of it. Receipts are kept for the regulator and
// written to the audit log; they never hold the address.
type Receipt struct {
	Delivery string
	Incident string
	Subject  dataward.SubjectID
	Channel  string
	Attempt  int
	At       time.Time
	OK       bool
	Detail   string // the server's reply, or the error
}

// OutboxStore keeps the outbox and its receipts. It is implemented by
// [MemStore] and sqlstore's BreachStore; breachtest checks others.
// Implementations keep copies and leave validation to the [Outbox].
type OutboxStore interface {
	// Enqueue keeps each delivery whose Key is not kept yet and returns how
	// many it kept; a delivery whose Key is kept is skipped, not an error.
	Enqueue(ctx context.Context, ds []Delivery) (int, error)
	// Claim leases up to n pending deliveries due at now (NextAt not after
	// now) that no lease holds (or whose lease ended before now) to owner
	// until now+lease, adds one to their Attempts, and returns them, oldest
	// ID first. A delivery is never held by two owners at once.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]Delivery, error)
	// Finish keeps r and moves the delivery to state (Pending again with
	// NextAt for a retry), releasing the lease, if owner holds it;
	// otherwise it keeps nothing and returns an error matching
	// ErrLeaseLost. Both happen, or neither.
	Finish(ctx context.Context, id, owner string, r Receipt, state DeliveryState, nextAt time.Time) error
	// Deliveries returns the incident's deliveries in order of ID.
	Deliveries(ctx context.Context, incident string) ([]Delivery, error)
	// Receipts returns the receipts of the incident's deliveries in order
	// of time, then delivery, then attempt.
	Receipts(ctx context.Context, incident string) ([]Receipt, error)
}

// OutboxOptions configure an [Outbox]. The zero value (or nil) is the
// default.
type OutboxOptions struct {
	Clock dataward.Clock
	// Audit, if set, receives an event per receipt ("breach.delivery"),
	// naming the delivery, incident, channel, attempt and outcome, with
	// the recipient as the subject (which the audit log pseudonymises).
	Audit *audit.Logger
	// Workers bounds the deliveries in flight; 8 by default.
	Workers int
	// Rate bounds deliveries started per second, evenly spaced; 0 is no
	// limit.
	Rate float64
	// Lease is how long a claimed delivery is held before another worker
	// may take it (after a crash); 1 minute by default. It must be longer
	// than a delivery can take, waits in the queue included: a delivery
	// whose lease runs out while another process's worker still sends it
	// may be sent twice (within one Outbox it is not).
	Lease time.Duration
	// MaxAttempts is the attempts before a delivery fails; 8 by default.
	MaxAttempts int
	// RetryBase and RetryMax bound the backoff between attempts: 30 s and
	// 1 h by default, with full jitter.
	RetryBase, RetryMax time.Duration
	// Poll is how often Run looks for due deliveries when idle; 1 s by
	// default.
	Poll time.Duration
	// Owner names this worker in leases; random by default.
	Owner string
}

// Outbox delivers notices with bounded concurrency and a rate limit, and
// keeps proof. A notice is enqueued once per incident, regime, party,
// phase and recipient, however often [Outbox.Enqueue] is called. A
// delivery is claimed with a lease before it is sent and finished with its
// receipt after: after a crash, deliveries not finished are taken up again
// when their lease ends, so none is lost. A delivery whose attempt was cut
// short by the crash after the server accepted it is sent again with the
// same ID (Message-ID, Idempotency-Key), by which receivers recognise it:
// no transport can tell an accepted-but-unrecorded send from a lost one.
// It is safe for concurrent use; several Outboxes (processes) may run on
// one store.
type Outbox struct {
	store     OutboxStore
	notifiers map[string]Notifier
	clock     dataward.Clock
	audit     *audit.Logger
	o         OutboxOptions
	ids       *uuid7.Generator
	limiter   *limiter
	wake      chan struct{}
}

// NewOutbox returns an Outbox over store delivering through notifiers,
// keyed by channel ("email", "webhook", "log").
func NewOutbox(store OutboxStore, notifiers map[string]Notifier, opts *OutboxOptions) (*Outbox, error) {
	ve := &dataward.ValidationError{Package: "breach"}
	if store == nil {
		ve.Add("store", "is required")
	}
	if len(notifiers) == 0 {
		ve.Add("notifiers", "is required")
	}
	for ch, n := range notifiers {
		if n == nil {
			ve.Add("notifiers["+strconv.Quote(ch)+"]", "is nil")
		}
	}
	var o OutboxOptions
	if opts != nil {
		o = *opts
	}
	if o.Workers < 0 || o.Rate < 0 || o.Lease < 0 || o.MaxAttempts < 0 || o.RetryBase < 0 || o.RetryMax < 0 || o.Poll < 0 {
		ve.Add("Options", "has a negative value")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 8
	}
	def(&o.Lease, time.Minute)
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.Poll, time.Second)
	if o.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Owner = "outbox-" + hex.EncodeToString(b[:])
	}
	return &Outbox{store: store, notifiers: notifiers, clock: dataward.ClockOrSystem(o.Clock), audit: o.Audit, o: o,
		ids: uuid7.NewGenerator(), limiter: newLimiter(o.Rate), wake: make(chan struct{}, 1)}, nil
}

// EnqueueResult counts what [Outbox.Enqueue] did.
type EnqueueResult struct {
	Enqueued   int // new deliveries
	Duplicates int // recipients repeated in the stream, or enqueued before
}

// Enqueue adds a delivery of notice n, for phase (e.g. "initial",
// "update-1"), to each recipient the stream yields, once: a recipient
// repeated in the stream or enqueued before for the same incident,
// regime, party and phase is skipped. A recipient whose address a notifier
// cannot use is still enqueued, and its delivery fails with a receipt
// saying why. A draft notice is refused, as is a stream error (what was
// enqueued before it stays).
func (o *Outbox) Enqueue(ctx context.Context, n Notice, phase string, to iter.Seq2[Recipient, error]) (EnqueueResult, error) {
	var res EnqueueResult
	if !n.Final {
		return res, fmt.Errorf("breach: enqueue: the %s %s notice of incident %s is a draft", n.Regime, n.Party, n.Incident)
	}
	if phase == "" || n.Incident == "" {
		return res, &dataward.ValidationError{Package: "breach", Problems: []dataward.Problem{{Field: "phase", Message: "is required"}}}
	}
	now := o.clock.Now().UTC()
	batch := make([]Delivery, 0, 256)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		k, err := o.store.Enqueue(ctx, batch)
		if err != nil {
			return fmt.Errorf("breach: enqueue: %w", err)
		}
		res.Enqueued += k
		res.Duplicates += len(batch) - k
		batch = batch[:0]
		return nil
	}
	seen := make(map[string]bool)
	for r, err := range to {
		if err == nil {
			k := r.key()
			if seen[k] {
				res.Duplicates++
				continue
			}
			seen[k] = true
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return res, ferr
			}
			return res, fmt.Errorf("breach: enqueue: reading recipients: %w", err)
		}
		batch = append(batch, Delivery{
			Message: Message{ID: o.ids.Next(now), Incident: n.Incident, Regime: n.Regime, Party: n.Party, Phase: phase, To: r,
				Subject: n.Subject, Text: n.Text, HTML: n.HTML},
			Key:   n.Incident + "|" + n.Regime + "|" + string(n.Party) + "|" + phase + "|" + r.key(),
			State: Pending, NextAt: now, Created: now,
		})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return res, nil
}

// Run delivers due deliveries until ctx is done, and returns ctx's error
// (or the store's, if it fails). The caller owns the goroutine.
func (o *Outbox) Run(ctx context.Context) error { return o.run(ctx, false) }

// Drain delivers until no delivery is due, then returns nil: for tests,
// command-line tools and benchmarks. Retries scheduled later are left.
func (o *Outbox) Drain(ctx context.Context) error { return o.run(ctx, true) }

func (o *Outbox) run(ctx context.Context, drain bool) error {
	work := make(chan Delivery, o.o.Workers*4)
	var wg sync.WaitGroup
	var inflight sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	// held are the deliveries this run has claimed and not finished. A
	// Claim returns one again if its lease ran out while it waited or was
	// being sent (a slow server, a busy machine); the new lease then just
	// extends the old one, and it must not be sent a second time.
	var heldMu sync.Mutex
	held := make(map[string]bool)
	for range o.o.Workers {
		wg.Go(func() {
			for d := range work {
				if err := o.deliver(ctx, d); err != nil && ctx.Err() == nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
				heldMu.Lock()
				delete(held, d.ID)
				heldMu.Unlock()
				inflight.Done()
			}
		})
	}
	// fresh drops the deliveries this run holds already and holds the rest.
	fresh := func(ds []Delivery) []Delivery {
		heldMu.Lock()
		defer heldMu.Unlock()
		out := ds[:0]
		for _, d := range ds {
			if !held[d.ID] {
				held[d.ID] = true
				out = append(out, d)
			}
		}
		return out
	}
	defer wg.Wait()
	defer close(work)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		errMu.Lock()
		err := firstErr
		errMu.Unlock()
		if err != nil {
			return err
		}
		ds, err := o.store.Claim(ctx, o.o.Owner, o.clock.Now().UTC(), o.o.Lease, cap(work))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("breach: outbox: claim: %w", err)
		}
		if len(ds) > 0 {
			if ds = fresh(ds); len(ds) == 0 {
				// Only deliveries in flight here were due: wait for one to end.
				t := time.NewTimer(10 * time.Millisecond)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
				continue
			}
			inflight.Add(len(ds))
			for _, d := range ds {
				select {
				case work <- d:
				case <-ctx.Done():
					inflight.Add(-1) // the lease will lapse and another run take it
				}
			}
			continue
		}
		if drain {
			inflight.Wait()
			more, err := o.store.Claim(ctx, o.o.Owner, o.clock.Now().UTC(), o.o.Lease, 1)
			if err != nil {
				return fmt.Errorf("breach: outbox: claim: %w", err)
			}
			if len(more) == 0 {
				errMu.Lock()
				defer errMu.Unlock()
				return firstErr
			}
			if more = fresh(more); len(more) > 0 {
				inflight.Add(1)
				work <- more[0]
			}
			continue
		}
		t := time.NewTimer(o.o.Poll)
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// deliver makes one attempt at d and finishes it with its receipt. It
// returns only failures of the store.
func (o *Outbox) deliver(ctx context.Context, d Delivery) error {
	if err := o.limiter.wait(ctx); err != nil {
		return nil // canceled: the lease will lapse
	}
	m := d.Message
	var proof string
	var err error
	if n := o.notifiers[d.To.Channel]; n == nil {
		err = permanent("no notifier for channel %q", d.To.Channel)
	} else {
		proof, err = n.Deliver(ctx, m)
	}
	if err != nil && ctx.Err() != nil {
		return nil // canceled mid-attempt: the lease will lapse and it is tried again
	}
	now := o.clock.Now().UTC()
	r := Receipt{Delivery: d.ID, Incident: d.Incident, Subject: d.To.Subject, Channel: d.To.Channel, Attempt: d.Attempts, At: now, OK: err == nil, Detail: proof}
	state, next := Delivered, time.Time{}
	if err != nil {
		r.Detail = err.Error()
		state = Failed
		if !errors.Is(err, ErrPermanent) && d.Attempts < o.o.MaxAttempts {
			state, next = Pending, now.Add(backoff(d.Attempts, o.o.RetryBase, o.o.RetryMax))
		}
	}
	// The attempt is over: record it even if ctx is cancelled meanwhile (a
	// shutdown), so that the proof of a notice the server accepted is kept
	// and the notice is not sent again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := o.store.Finish(ctx, d.ID, o.o.Owner, r, state, next); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return nil // another worker took it over; its attempt will be recorded
		}
		return fmt.Errorf("breach: outbox: finish %s: %w", d.ID, err)
	}
	if o.audit != nil {
		outcome := audit.Success
		if !r.OK {
			outcome = audit.Failure
		}
		if err := o.audit.Record(ctx, audit.Event{
			Time: now, Action: "breach.delivery", Subject: d.To.Subject, Outcome: outcome,
			Resource: audit.Resource{Type: "breach.delivery", ID: d.ID},
			Metadata: []audit.Attr{{Key: "incident", Value: d.Incident}, {Key: "channel", Value: d.To.Channel},
				{Key: "regime", Value: d.Regime}, {Key: "party", Value: string(d.Party)}, {Key: "phase", Value: d.Phase},
				{Key: "attempt", Value: strconv.Itoa(d.Attempts)}, {Key: "state", Value: string(state)}},
		}); err != nil {
			return fmt.Errorf("breach: outbox: delivery %s is recorded, but its audit event failed: %w", d.ID, err)
		}
	}
	return nil
}

// Deliveries returns the incident's deliveries, in order of ID.
func (o *Outbox) Deliveries(ctx context.Context, incident string) ([]Delivery, error) {
	ds, err := o.store.Deliveries(ctx, incident)
	if err != nil {
		return nil, fmt.Errorf("breach: deliveries: %w", err)
	}
	return ds, nil
}

// Proof returns the receipts of every attempt at the incident's
// deliveries, oldest first: the proof of delivery for the regulator.
func (o *Outbox) Proof(ctx context.Context, incident string) ([]Receipt, error) {
	rs, err := o.store.Receipts(ctx, incident)
	if err != nil {
		return nil, fmt.Errorf("breach: receipts: %w", err)
	}
	return rs, nil
}

// limiter paces deliveries at rate a second, without bursts: each start
// waits for the interval after the one before (idle time is not saved up
// beyond one interval). A nil limiter does not limit.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    time.Duration
	next     time.Time // when the last start granted is due
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	iv := time.Duration(float64(time.Second) / rate)
	return &limiter{interval: iv, burst: iv}
}

func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now.Add(-l.burst)) {
		l.next = now.Add(-l.burst)
	}
	l.next = l.next.Add(l.interval)
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}

// Notifications returns what the outbox has done for the incident, as
// [Notification] values that [Register.Notify] records: one for each
// regime, party and phase whose deliveries are all finished (none is
// pending) and at least one of which was delivered. Its time is that of
// the last successful delivery, and its Reference says the phase and how
// many deliveries succeeded and failed. A phase with deliveries still
// pending, or none delivered, gives none: a notice is given when it has
// reached the people it was for.
func (o *Outbox) Notifications(ctx context.Context, incident string) ([]Notification, error) {
	ds, err := o.Deliveries(ctx, incident)
	if err != nil {
		return nil, err
	}
	rs, err := o.Proof(ctx, incident)
	if err != nil {
		return nil, err
	}
	deliveredAt := make(map[string]time.Time, len(ds))
	for _, r := range rs {
		if r.OK && r.At.After(deliveredAt[r.Delivery]) {
			deliveredAt[r.Delivery] = r.At
		}
	}
	type group struct {
		regime     string
		party      Party
		phase      string
		pending    bool
		ok, failed int
		last       time.Time
	}
	var groups []*group
	byKey := map[[3]string]*group{}
	for _, d := range ds {
		k := [3]string{d.Regime, string(d.Party), d.Phase}
		g := byKey[k]
		if g == nil {
			g = &group{regime: d.Regime, party: d.Party, phase: d.Phase}
			byKey[k] = g
			groups = append(groups, g)
		}
		switch d.State {
		case Pending:
			g.pending = true
		case Delivered:
			g.ok++
			if at := deliveredAt[d.ID]; at.After(g.last) {
				g.last = at
			}
		case Failed:
			g.failed++
		}
	}
	var out []Notification
	for _, g := range groups {
		if g.pending || g.ok == 0 {
			continue
		}
		out = append(out, Notification{
			Regime: g.regime, Party: g.party, At: g.last,
			Reference: fmt.Sprintf("outbox phase %q: %d delivered, %d failed", g.phase, g.ok, g.failed),
		})
	}
	slices.SortStableFunc(out, func(a, b Notification) int { return a.At.Compare(b.At) })
	return out, nil
}
