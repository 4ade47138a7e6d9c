package retention

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/uuid7"
	"github.com/dataward/dataward/internal/valid"
)

// Defaults of [Options].
const (
	DefaultBatchSize = 500
	DefaultInterval  = time.Hour
	DefaultLeaseTTL  = 2 * time.Minute
	DefaultJitter    = 0.1
	MaxBatchSize     = 10000
)

// Options configure a [Sweeper]. Nil means every default.
type Options struct {
	// BatchSize is how many records are listed and disposed of in one
	// step (default 500): each batch is one short transaction on a SQL
	// target, so that locks are held briefly.
	BatchSize int `validate:"gte=0,lte=10000"`
	// MaxPerRun caps the records disposed of per data set in one sweep
	// (0: no cap). The rest waits for the next sweep, which resumes where
	// this one stopped.
	MaxPerRun int `validate:"gte=0"`
	// RateLimit caps the records disposed of per second in a data set (0:
	// no limit), so that a large backlog never starves the host's own
	// queries: the sweeper waits between batches.
	RateLimit float64 `validate:"gte=0"`
	// Interval is the time between sweeps in [Sweeper.Run] (default one
	// hour), varied at random by Jitter.
	Interval time.Duration `validate:"gte=0"`
	// Jitter is the fraction of Interval by which each wait varies, up or
	// down (default 0.1), so that replicas do not sweep in step.
	Jitter float64 `validate:"gte=0,lte=1"`
	// LeaseTTL is how long a sweeper's lease on a data set lasts without
	// being renewed (default two minutes); a sweep renews it, and keeps
	// its cursor, between batches once a second (or every quarter of
	// LeaseTTL, if shorter). A crashed sweeper's data sets are taken over
	// once it ends.
	LeaseTTL time.Duration `validate:"gte=0"`
	// Owner names this sweeper in leases (default: random); it must be
	// unique among the sweepers sharing a Store.
	Owner string `validate:"lte=255"`

	// Audit receives a disposal receipt per batch and a record of every
	// hold placed or released. Nil: no receipts.
	Audit *audit.Logger
	// HashKey keys the pseudonymised record IDs of receipts and the
	// [Hash] anonymisation rule (at least 16 bytes; 32 random bytes are
	// best). Required with Audit or a Hash rule. Keep it secret and
	// stable.
	HashKey []byte
	// Shredder crypto-shreds subjects for policies whose action is
	// [Shred]: a *pii.Keyring through [KeyringShredder].
	Shredder Shredder
	// OnBatch, if set, is told about every batch, for metrics. It must
	// not block.
	OnBatch func(BatchStats)
	// OnError, if set, is told about the errors of sweeps that Run starts.
	OnError func(error)
	// Clock tells the time; nil means the system clock.
	Clock dataward.Clock
}

// BatchStats describes one batch of a sweep, for metrics.
type BatchStats struct {
	Dataset  string
	Action   Action
	Listed   int           // candidates listed
	Disposed int           // records disposed of
	Held     int           // records skipped because a hold covers them
	List     time.Duration // time spent listing
	Dispose  time.Duration // time spent disposing (shredding included)
}

// Sweeper enforces a [Schedule]: it disposes of every record whose
// retention period has ended, unless a legal hold covers it, and writes a
// receipt of every batch to the audit log. It is safe for concurrent use;
// many sweepers (in many replicas) may share a Store, and only one at a
// time sweeps a data set.
type Sweeper struct {
	store    Store
	policies []Policy
	periods  []Period
	targets  []Target
	opts     Options
	clock    dataward.Clock
	owner    string
	ids      *uuid7.Generator
}

// New returns a Sweeper that enforces schedule on targets, one per data
// set, keyed by data set name, with holds, events, leases and cursors in
// store. It returns a [*dataward.ValidationError] listing every problem
// at once (the schedule's, a data set without a target or a target
// without a policy, a Shred policy without a Shredder, a Hash rule or
// Audit without a HashKey, a target that cannot carry out its policy, bad
// options) before anything is disposed of.
func New(store Store, schedule *Schedule, targets map[string]Target, opts *Options) (*Sweeper, error) {
	ve := &dataward.ValidationError{Package: "retention"}
	if store == nil {
		ve.Add("store", "is required")
	}
	if schedule == nil {
		ve.Add("schedule", "is required")
		return nil, ve
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := valid.Struct("retention", "Options", &o); err != nil {
		ve.Problems = append(ve.Problems, err.(*dataward.ValidationError).Problems...)
	}
	if err := schedule.Validate(); err != nil {
		ve.Problems = append(ve.Problems, err.(*dataward.ValidationError).Problems...)
	}
	s := &Sweeper{store: store, clock: dataward.ClockOrSystem(o.Clock), ids: uuid7.NewGenerator()}
	needKey := o.Audit != nil
	for i, p := range schedule.Policies {
		at := "policies[" + strconv.Itoa(i) + "]"
		t := targets[p.Dataset]
		if t == nil {
			ve.Add(at+".dataset", fmt.Sprintf("has no target: targets has no entry %q", p.Dataset))
		} else if pc, ok := t.(PolicyChecker); ok {
			if err := pc.CheckPolicy(p); err != nil {
				ve.Add(at, "cannot be carried out by its target: "+err.Error())
			}
		}
		if p.Action == Shred && o.Shredder == nil {
			ve.Add(at+".action", "is \"shred\", but Options.Shredder is nil")
		}
		for _, r := range p.Fields {
			needKey = needKey || r.Rule == Hash
		}
		s.policies = append(s.policies, p)
		s.periods = append(s.periods, p.period())
		s.targets = append(s.targets, t)
	}
	for _, name := range sortedKeys(targets) {
		if !slices.ContainsFunc(schedule.Policies, func(p Policy) bool { return p.Dataset == name }) {
			ve.Add("targets["+strconv.Quote(name)+"]", "has no policy in the schedule")
		}
	}
	if needKey && len(o.HashKey) < 16 {
		ve.Add("Options.HashKey", "must be at least 16 bytes with Options.Audit or a \"hash\" rule")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Jitter == 0 {
		o.Jitter = DefaultJitter
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Owner == "" {
		var b [8]byte
		_, _ = crand.Read(b[:])
		o.Owner = "sweeper-" + hex.EncodeToString(b[:])
	}
	o.HashKey = slices.Clone(o.HashKey)
	s.opts, s.owner = o, o.Owner
	return s, nil
}

func sortedKeys(m map[string]Target) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Report says what a sweep did, or what a plan would do: per policy, in
// the schedule's order.
type Report struct {
	At       time.Time // the instant the sweep judged periods by
	Policies []PolicyReport
}

// Disposed returns the number of records disposed of in every data set.
func (r Report) Disposed() int {
	n := 0
	for _, p := range r.Policies {
		n += len(p.Disposed)
	}
	return n
}

// PolicyReport says what a sweep did to one data set.
type PolicyReport struct {
	Dataset string
	Action  Action
	Reason  string // the policy's legal reason
	// Why says, in words, which records the policy selects at the sweep's
	// instant: "created on or before 2026-01-14T09:00:00Z (2 months)".
	Why string
	// Disposed lists the IDs of the records disposed of (by a plan: that
	// would be), in order.
	Disposed []string
	// Held lists the records skipped because a hold covers them.
	Held []HeldRecord
	// Capped reports that the sweep stopped at Options.MaxPerRun; the next
	// resumes where it stopped.
	Capped bool
	// Skipped says why the data set was not swept, such as "leased by
	// another sweeper"; empty if it was.
	Skipped string
	// Err is what stopped the sweep of this data set, if anything.
	Err error
}

// HeldRecord is a record a sweep skipped because of a hold.
type HeldRecord struct {
	ID   string // the record
	Hold string // the ID of a hold that covers it
}

// Sweep disposes, once, of every record whose retention period has ended
// at the clock's current instant, in every data set this sweeper can
// lease, batch by batch, and returns what it did. Records covered by a
// hold are skipped. A sweep of a data set resumes where an earlier one
// stopped (at the cap, by a crash, by cancellation) and is idempotent: a
// batch repeated after a crash disposes of nothing twice. A data set that
// fails does not stop the others; the error returned joins their errors.
// Cancelling ctx stops the sweep between batches.
func (s *Sweeper) Sweep(ctx context.Context) (Report, error) {
	return s.sweep(ctx, false)
}

// Plan is a dry run: it returns exactly what [Sweeper.Sweep] would dispose
// of at the clock's current instant (from the same cursors, with the same
// cap), and the held records it would skip, without disposing of anything,
// taking leases or moving cursors.
func (s *Sweeper) Plan(ctx context.Context) (Report, error) {
	return s.sweep(ctx, true)
}

func (s *Sweeper) sweep(ctx context.Context, dry bool) (Report, error) {
	now := s.clock.Now().UTC()
	rep := Report{At: now, Policies: make([]PolicyReport, len(s.policies))}
	holds, err := s.store.Holds(ctx)
	if err != nil {
		return rep, fmt.Errorf("retention: reading holds: %w", err)
	}
	hs := newHoldSet(holds, now)
	var errs []error
	for i := range s.policies {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		pr := &rep.Policies[i]
		s.sweepPolicy(ctx, i, now, hs, dry, pr)
		if pr.Err != nil {
			errs = append(errs, pr.Err)
		}
	}
	return rep, errors.Join(errs...)
}

// holdSet answers which hold, if any, covers a record, at one instant.
type holdSet struct {
	subjects   map[dataward.SubjectID]string
	records    map[[2]string]string
	categories []Hold
}

func newHoldSet(holds []Hold, now time.Time) *holdSet {
	hs := &holdSet{subjects: map[dataward.SubjectID]string{}, records: map[[2]string]string{}}
	for _, h := range holds {
		if !h.active(now) {
			continue
		}
		switch {
		case h.Subject != "":
			hs.subjects[h.Subject] = h.ID
		case h.Record != "":
			hs.records[[2]string{h.Dataset, h.Record}] = h.ID
		case h.Category != "":
			hs.categories = append(hs.categories, h)
		}
	}
	return hs
}

// category returns the hold covering every record of category, or "".
func (hs *holdSet) category(c string) string {
	for _, h := range hs.categories {
		if categoryCovers(h.Category, c) {
			return h.ID
		}
	}
	return ""
}

// none reports whether no hold can cover a record of dataset, other than
// one on its category: no subject holds and no record holds in dataset.
func (hs *holdSet) none(dataset string) bool {
	return len(hs.subjects) == 0 && !hs.anyRecord(dataset)
}

// anyRecord reports whether a hold covers a record of dataset by its ID.
func (hs *holdSet) anyRecord(dataset string) bool {
	for k := range hs.records {
		if k[0] == dataset {
			return true
		}
	}
	return false
}

func (hs *holdSet) record(dataset string, c Candidate) string {
	if id, ok := hs.records[[2]string{dataset, c.ID}]; ok {
		return id
	}
	if c.Subject != "" {
		return hs.subjects[c.Subject]
	}
	return ""
}

const leasePrefix = "retention/"

// sweepPolicy sweeps policy i into pr.
func (s *Sweeper) sweepPolicy(ctx context.Context, i int, now time.Time, hs *holdSet, dry bool, pr *PolicyReport) {
	p, period, target := &s.policies[i], s.periods[i], s.targets[i]
	*pr = PolicyReport{Dataset: p.Dataset, Action: p.Action, Reason: p.Reason}
	name := leasePrefix + p.Dataset
	fail := func(what string, err error) {
		pr.Err = fmt.Errorf("retention: data set %q: %s: %w", p.Dataset, what, err)
	}
	cutoff := period.Cutoff(now)
	q := Query{Dataset: p.Dataset, Since: p.Since, Limit: s.opts.BatchSize}
	switch p.Since {
	case SinceCreated, SinceLastActivity:
		q.Cutoff = cutoff
		pr.Why = fmt.Sprintf("%s on or before %s (%s)", strings.ReplaceAll(string(p.Since), "_", " "), cutoff.Format(time.RFC3339), p.Period)
	case SinceEvent:
		pr.Why = fmt.Sprintf("%q recorded on or before %s (%s)", p.Event, cutoff.Format(time.RFC3339), p.Period)
	case SinceDate:
		if period.End(p.Date).After(now) {
			pr.Why = fmt.Sprintf("nothing before %s (%s after %s)", period.End(p.Date).Format(time.RFC3339), p.Period, p.Date.Format(time.DateOnly))
			return
		}
		q.All = true
		pr.Why = fmt.Sprintf("every record: %s after %s ended on %s", p.Period, p.Date.Format(time.DateOnly), period.End(p.Date).Format(time.RFC3339))
	}

	if !dry {
		ok, err := s.store.AcquireLease(ctx, name, s.owner, now, s.clock.Now().Add(s.opts.LeaseTTL))
		if err != nil {
			fail("taking the lease", err)
			return
		}
		if !ok {
			pr.Skipped = "leased by another sweeper"
			return
		}
		defer func() {
			// A fresh context: release even when ctx was cancelled.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if p.Action == Shred {
				// The intent stays kept if the sweep failed: only
				// its lease ends.
				_ = s.store.ReleaseLease(rctx, intentName(p.Dataset), s.owner)
			}
			_ = s.store.ReleaseLease(rctx, name, s.owner)
		}()
	}
	cur, err := s.store.Cursor(ctx, name)
	if err != nil {
		fail("reading the cursor", err)
		return
	}
	if isEventCursor(cur) != (p.Since == SinceEvent) {
		// Kept by the other walk, before the policy's trigger changed: it
		// means nothing to this one, so start afresh.
		cur = ""
	}
	holdAll := hs.category(p.Category)
	w := &walker{s: s, p: p, target: target, q: q, cutoff: cutoff, now: now, hs: hs, holdAll: holdAll, dry: dry, pr: pr, name: name, start: time.Now(), kept: time.Now(), leased: now}
	if nd, ok := target.(NextDisposer); ok && !dry && holdAll == "" && hs.none(p.Dataset) && s.opts.MaxPerRun == 0 && p.Action != Shred {
		w.next = nd
	}
	if p.Action == Shred && !dry {
		if err := w.finishIntent(ctx); err != nil {
			fail(w.stage, err)
			return
		}
	}
	if p.Since == SinceEvent {
		err = w.events(ctx, cur)
	} else {
		err = w.records(ctx, "", cur)
	}
	if err == nil && p.Action == Shred && !dry {
		err = w.endIntent(ctx)
	}
	if err != nil {
		fail(w.stage, err)
		return
	}
	if !dry && !pr.Capped {
		if err := s.store.SetCursor(ctx, name, s.owner, "", s.clock.Now()); err != nil {
			fail("ending the sweep", err)
		}
	}
}

// walker walks one data set, batch by batch.
type walker struct {
	s       *Sweeper
	p       *Policy
	target  Target
	q       Query
	cutoff  time.Time
	now     time.Time
	hs      *holdSet
	holdAll string
	dry     bool
	pr      *PolicyReport
	name    string
	stage   string
	start   time.Time // for the rate limit
	batches int
	kept    time.Time // when the cursor was last kept (monotonic)
	leased  time.Time // when the lease was last taken, by the sweeper's clock
	// next, if not nil, disposes of the next batch without listing it:
	// nothing can be held, capped or shredded.
	next NextDisposer
	// shredHolds remembers, for a Shred policy, the hold that keeps each
	// subject looked up so far ("" for none): see shredHold.
	shredHolds map[dataward.SubjectID]string
	// intent reports that this sweep holds the data set's shred intent
	// lease (see setIntent).
	intent bool
}

// Cursors: a records walk keeps the last record ID; an events walk keeps
// "e" + the subject its page of events starts after + "\x1f" + the last
// record ID of that page. Subjects never hold control characters.
func eventCursor(after dataward.SubjectID, rec string) string {
	return "e" + string(after) + "\x1f" + rec
}

// isEventCursor reports whether c was kept by an events walk. (A records
// walk keeps a record ID, which would have to start with "e" and hold a
// \x1f to be taken for one.)
func isEventCursor(c string) bool {
	return strings.HasPrefix(c, "e") && strings.Contains(c, "\x1f")
}

func parseEventCursor(c string) (dataward.SubjectID, string) {
	if !strings.HasPrefix(c, "e") {
		return "", ""
	}
	after, rec, _ := strings.Cut(c[1:], "\x1f")
	return dataward.SubjectID(after), rec
}

// events walks the subjects whose event is at or before the cutoff, a page
// at a time, and the records of each page.
func (w *walker) events(ctx context.Context, cur string) error {
	after, rec := parseEventCursor(cur)
	for {
		w.stage = "listing events"
		evs, err := w.s.store.Events(ctx, w.p.Event, w.cutoff, after, w.q.Limit)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		w.q.Subjects = make([]dataward.SubjectID, len(evs))
		for i, e := range evs {
			w.q.Subjects[i] = e.Subject
		}
		if err := w.records(ctx, after, rec); err != nil || w.pr.Capped {
			return err
		}
		after, rec = evs[len(evs)-1].Subject, ""
		if len(evs) < w.q.Limit {
			return nil
		}
		if !w.dry {
			// The page is done: start the next one after it.
			w.stage = "keeping the cursor"
			if err := w.s.store.SetCursor(ctx, w.name, w.s.owner, eventCursor(after, ""), w.s.clock.Now()); err != nil {
				return err
			}
		}
	}
}

// records walks the records the query selects after the cursor, in
// batches; page is the events page they belong to, if any.
func (w *walker) records(ctx context.Context, page dataward.SubjectID, after string) error {
	s, pr := w.s, w.pr
	for {
		if err := ctx.Err(); err != nil {
			w.stage = "stopping between batches"
			return err
		}
		q := w.q
		q.After = after
		if w.next != nil {
			done, err := w.disposeNext(ctx, q)
			if errors.Is(err, errors.ErrUnsupported) {
				w.next = nil
				continue
			}
			if err != nil {
				return err
			}
			if len(done) < q.Limit {
				return nil
			}
			after = done[len(done)-1]
			if err := w.keep(ctx, w.cursor(page, after)); err != nil {
				return err
			}
			if err := w.pace(ctx); err != nil {
				w.stage = "stopping between batches"
				return err
			}
			continue
		}
		w.stage = "listing candidates"
		t0 := time.Now()
		cands, err := w.target.Candidates(ctx, q)
		if err != nil {
			return err
		}
		stats := BatchStats{Dataset: w.p.Dataset, Action: w.p.Action, Listed: len(cands), List: time.Since(t0)}
		var batch []Candidate
		last := ""
		for _, c := range cands {
			if w.p.Since == SinceCreated || w.p.Since == SinceLastActivity {
				if c.Time.IsZero() || c.Time.After(w.cutoff) {
					last = c.ID // not due: the target's query was too wide
					continue
				}
			}
			if w.s.opts.MaxPerRun > 0 && len(pr.Disposed)+len(batch) >= w.s.opts.MaxPerRun {
				pr.Capped = true
				break
			}
			last = c.ID
			hold := w.holdAll
			if hold == "" {
				hold = w.hs.record(w.p.Dataset, c)
			}
			if hold == "" && w.p.Action == Shred {
				if hold, err = w.shredHold(ctx, c.Subject); err != nil {
					return err
				}
			}
			if hold != "" {
				pr.Held = append(pr.Held, HeldRecord{ID: c.ID, Hold: hold})
				stats.Held++
				continue
			}
			batch = append(batch, c)
		}
		if w.dry {
			for _, c := range batch {
				pr.Disposed = append(pr.Disposed, c.ID)
			}
		} else if len(batch) > 0 {
			t1 := time.Now()
			done, err := w.dispose(ctx, q, batch)
			stats.Dispose = time.Since(t1)
			stats.Disposed = len(done)
			pr.Disposed = appendIDs(pr.Disposed, done)
			if err != nil {
				return err
			}
		}
		if s.opts.OnBatch != nil && !w.dry {
			s.opts.OnBatch(stats)
		}
		if pr.Capped || len(cands) < q.Limit {
			if !w.dry && pr.Capped && last != "" {
				w.stage = "keeping the cursor"
				if err := s.store.SetCursor(ctx, w.name, s.owner, w.cursor(page, last), s.clock.Now()); err != nil {
					return err
				}
			}
			return nil
		}
		after = last
		if !w.dry {
			if err := w.keep(ctx, w.cursor(page, last)); err != nil {
				return err
			}
			if err := w.pace(ctx); err != nil {
				w.stage = "stopping between batches"
				return err
			}
		}
	}
}

// keepEvery is the most often a sweep writes its cursor and renews its
// lease between batches: every batch would cost two more write
// transactions (two more fsyncs on SQLite) per batch, as much as the
// disposal itself.
const keepEvery = time.Second

// keep writes cursor and renews the lease, if keepEvery has passed since
// they were last kept or a quarter of Options.LeaseTTL has passed on the
// sweeper's clock since the lease was last taken, so that the lease never
// comes near its expiry while the sweep runs. A crash loses at most the
// cursor of the batches since: the next sweep lists them again from the
// cursor kept and finds their records disposed of already (targets never
// list a disposed record), so nothing is disposed of twice.
func (w *walker) keep(ctx context.Context, cursor string) error {
	s := w.s
	now := s.clock.Now()
	if time.Since(w.kept) < min(keepEvery, s.opts.LeaseTTL/4) && now.Sub(w.leased) < s.opts.LeaseTTL/4 {
		return nil
	}
	w.stage = "keeping the cursor"
	if err := s.store.SetCursor(ctx, w.name, s.owner, cursor, now); err != nil {
		return err
	}
	w.stage = "renewing the lease"
	now = s.clock.Now()
	ok, err := s.store.AcquireLease(ctx, w.name, s.owner, now, now.Add(s.opts.LeaseTTL))
	if err != nil {
		return err
	}
	if !ok {
		return ErrLeaseLost
	}
	w.kept, w.leased = time.Now(), now
	return nil
}

func (w *walker) cursor(page dataward.SubjectID, rec string) string {
	if w.p.Since == SinceEvent {
		return eventCursor(page, rec)
	}
	return rec
}

// pace waits, under Options.RateLimit, until the records disposed of so
// far are due.
func (w *walker) pace(ctx context.Context) error {
	if w.s.opts.RateLimit <= 0 {
		return nil
	}
	due := time.Duration(float64(len(w.pr.Disposed)) / w.s.opts.RateLimit * float64(time.Second))
	wait := due - time.Since(w.start)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// shredHold returns the hold that keeps subject, or a record of it in any
// data set of the schedule, or "". Shredding a subject makes all of its sealed
// data unreadable, wherever it is kept, so a Shred policy must not shred
// a subject one of whose records a hold covers: by its ID, or by the
// category of its data set. Only data sets that such a hold covers are
// listed (the subject's records in each, a page at a time), and each
// subject once per sweep.
func (w *walker) shredHold(ctx context.Context, subject dataward.SubjectID) (string, error) {
	if subject == "" {
		return "", nil
	}
	if hold := w.hs.subjects[subject]; hold != "" {
		return hold, nil
	}
	if hold, ok := w.shredHolds[subject]; ok {
		return hold, nil
	}
	s, hs := w.s, w.hs
	hold := ""
	seen := make(map[string]bool)
	for i := 0; i < len(s.policies) && hold == ""; i++ {
		p := &s.policies[i]
		if seen[p.Dataset] {
			continue
		}
		seen[p.Dataset] = true
		category := hs.category(p.Category)
		if category == "" && !hs.anyRecord(p.Dataset) {
			continue
		}
		w.stage = "looking for holds on the records of a subject to shred"
		q := Query{Dataset: p.Dataset, Subjects: []dataward.SubjectID{subject}, Limit: w.q.Limit}
		err := eachCandidate(ctx, s.targets[i], q, func(c Candidate) bool {
			if c.Subject != subject {
				return false
			}
			if category != "" {
				hold = category
			} else {
				hold = hs.records[[2]string{p.Dataset, c.ID}]
			}
			return hold != ""
		})
		if err != nil {
			return "", fmt.Errorf("data set %q: %w", p.Dataset, err)
		}
	}
	if w.shredHolds == nil {
		w.shredHolds = make(map[dataward.SubjectID]string)
	}
	w.shredHolds[subject] = hold
	return hold, nil
}

// dispose disposes of one batch, and writes its receipt. For a Shred
// policy, the target disposes of the batch first, and only the subjects of
// the records it disposed of are shredded then: a subject whose record
// came alive after it was listed (which the target leaves alone) keeps
// its data. Between the two, the batch is kept as the data set's shred
// intent (see keepIntent), so that if the process stops after the
// disposal, before the shredding, the next sweep of the data set shreds
// what this one could not (finishIntent).
func (w *walker) dispose(ctx context.Context, q Query, batch []Candidate) ([]string, error) {
	if w.p.Action == Shred {
		if err := w.keepIntent(ctx, batch); err != nil {
			return nil, err
		}
	}
	w.stage = "disposing"
	b := Batch{Dataset: w.p.Dataset, Action: w.p.Action, Query: q, Records: batch, Fields: w.p.Fields, Now: w.now, hashKey: w.s.opts.HashKey}
	done, err := w.target.Dispose(ctx, b)
	done = inBatchOrder(batch, done)
	if err != nil {
		return done, err
	}
	if w.p.Action == Shred {
		if err := w.shred(ctx, batch, done); err != nil {
			return done, fmt.Errorf("%d records were disposed of, but shredding their subjects failed (the next sweep tries again): %w", len(done), err)
		}
	}
	return done, w.disposed(ctx, done)
}

// shred shreds the subjects of the records of batch whose IDs are in
// done, each once.
func (w *walker) shred(ctx context.Context, batch []Candidate, done []string) error {
	w.stage = "shredding"
	disposed := make(map[string]bool, len(done))
	for _, id := range done {
		disposed[id] = true
	}
	seen := make(map[dataward.SubjectID]bool)
	for _, c := range batch {
		if c.Subject == "" || seen[c.Subject] || !disposed[c.ID] {
			continue
		}
		seen[c.Subject] = true
		if err := w.s.opts.Shredder.Shred(ctx, c.Subject); err != nil {
			return err
		}
	}
	return nil
}

// A Shred policy's intent is the batch it is disposing of, kept under the
// lease and cursor named intentName(dataset) until the sweep ends: the IDs
// and subjects of its records, as JSON. (A space cannot occur in a data
// set's name, so the name is no data set's own.)
func intentName(dataset string) string { return leasePrefix + dataset + " shredding" }

// intentRecord is a record of an intent. Its strings are kept as bytes
// (base64 in JSON), which any string survives unchanged: JSON strings
// would replace invalid UTF-8.
type intentRecord struct {
	ID      []byte `json:"id"`
	Subject []byte `json:"subject"`
}

// keepIntent keeps batch as the data set's shred intent, before the
// target disposes of it.
func (w *walker) keepIntent(ctx context.Context, batch []Candidate) error {
	w.stage = "keeping the shred intent"
	recs := make([]intentRecord, 0, len(batch))
	for _, c := range batch {
		if c.Subject != "" {
			recs = append(recs, intentRecord{[]byte(c.ID), []byte(c.Subject)})
		}
	}
	raw, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	return w.setIntent(ctx, string(raw))
}

// setIntent keeps raw as the data set's shred intent ("" forgets it),
// taking or renewing its lease.
func (w *walker) setIntent(ctx context.Context, raw string) error {
	s, name := w.s, intentName(w.p.Dataset)
	now := s.clock.Now()
	ok, err := s.store.AcquireLease(ctx, name, s.owner, now, now.Add(s.opts.LeaseTTL))
	if err != nil {
		return err
	}
	if !ok {
		return ErrLeaseLost
	}
	w.intent = true
	return s.store.SetCursor(ctx, name, s.owner, raw, now)
}

// endIntent forgets the data set's shred intent, once a sweep has shredded
// all it disposed of, and releases its lease.
func (w *walker) endIntent(ctx context.Context) error {
	if !w.intent {
		return nil // nothing disposed of, nothing left from before
	}
	w.stage = "ending the shred intent"
	return w.setIntent(ctx, "")
}

// finishIntent finishes what an earlier sweep of the data set left
// undone: if it stopped between disposing of a batch and shredding the
// subjects, the intent it kept names that batch. The records of it that
// the target no longer lists were disposed of, and their subjects are
// shredded now (again, for those the earlier sweep did shred: that does
// no harm), unless a hold keeps them.
func (w *walker) finishIntent(ctx context.Context) error {
	w.stage = "reading the shred intent"
	raw, err := w.s.store.Cursor(ctx, intentName(w.p.Dataset))
	if err != nil || raw == "" {
		return err
	}
	var recs []intentRecord
	if err := json.Unmarshal([]byte(raw), &recs); err != nil {
		return fmt.Errorf("the shred intent kept is not valid: %w", err)
	}
	w.stage = "finishing the shred intent"
	var subjects []dataward.SubjectID
	for _, r := range recs {
		if s := dataward.SubjectID(r.Subject); !slices.Contains(subjects, s) {
			subjects = append(subjects, s)
		}
	}
	listed := make(map[string]bool)
	if len(subjects) > 0 {
		q := Query{Dataset: w.p.Dataset, Subjects: subjects, Limit: w.q.Limit}
		err := eachCandidate(ctx, w.target, q, func(c Candidate) bool {
			listed[c.ID] = true
			return false
		})
		if err != nil {
			return err
		}
	}
	var batch []Candidate
	var done []string
	for _, r := range recs {
		c := Candidate{ID: string(r.ID), Subject: dataward.SubjectID(r.Subject)}
		if listed[c.ID] {
			continue // not disposed of: left alone, as it came alive
		}
		hold, err := w.shredHold(ctx, c.Subject)
		if err != nil {
			return err
		}
		if hold == "" {
			batch = append(batch, c)
			done = append(done, c.ID)
		}
	}
	if err := w.shred(ctx, batch, done); err != nil {
		return err
	}
	return w.setIntent(ctx, "")
}

// eachCandidate calls f on every record that t lists for q, a page of
// q.Limit at a time, until f returns true.
func eachCandidate(ctx context.Context, t Target, q Query, f func(Candidate) (stop bool)) error {
	for {
		cands, err := t.Candidates(ctx, q)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if f(c) {
				return nil
			}
		}
		if len(cands) < q.Limit {
			return nil
		}
		q.After = cands[len(cands)-1].ID
	}
}

// disposeNext has the target select and dispose of the next batch after
// q.After in one step, and writes its receipt.
func (w *walker) disposeNext(ctx context.Context, q Query) ([]string, error) {
	w.stage = "disposing"
	t0 := time.Now()
	b := Batch{Dataset: w.p.Dataset, Action: w.p.Action, Query: q, Fields: w.p.Fields, Now: w.now, hashKey: w.s.opts.HashKey}
	done, err := w.next.DisposeNext(ctx, b)
	if err != nil {
		return nil, err
	}
	if len(done) > q.Limit {
		return nil, fmt.Errorf("the target disposed of %d records in a batch of %d", len(done), q.Limit)
	}
	stats := BatchStats{Dataset: w.p.Dataset, Action: w.p.Action, Listed: len(done), Disposed: len(done), Dispose: time.Since(t0)}
	w.pr.Disposed = appendIDs(w.pr.Disposed, done)
	err = w.disposed(ctx, done)
	if w.s.opts.OnBatch != nil {
		w.s.opts.OnBatch(stats)
	}
	return done, err
}

// appendIDs appends ids to s, doubling its capacity whenever it grows: a
// sweep of a large backlog appends hundreds of batches, and append grows a
// long slice by about a quarter at a time, copying it (and touching fresh
// memory) twice as much; with append, growing Disposed took 7 % of a sweep
// of 100,000 rows on SQLite.
func appendIDs(s, ids []string) []string {
	if n := len(s) + len(ids); n > cap(s) {
		grown := make([]string, len(s), max(n, 2*cap(s)))
		copy(grown, s)
		s = grown
	}
	return append(s, ids...)
}

// disposed counts a batch disposed of and writes its receipt.
func (w *walker) disposed(ctx context.Context, done []string) error {
	w.batches++
	if w.s.opts.Audit != nil && len(done) > 0 {
		w.stage = "writing the receipt"
		if err := w.receipt(ctx, done); err != nil {
			return fmt.Errorf("%d records were disposed of, but their receipt failed: %w", len(done), err)
		}
	}
	return nil
}

// inBatchOrder returns the IDs of done in the order of batch (a target
// may return them in any order), dropping any not in batch.
func inBatchOrder(batch []Candidate, done []string) []string {
	if len(done) == 0 {
		return nil
	}
	set := make(map[string]bool, len(done))
	for _, id := range done {
		set[id] = true
	}
	out := make([]string, 0, len(done))
	for _, c := range batch {
		if set[c.ID] {
			out = append(out, c.ID)
			delete(set, c.ID)
		}
	}
	return out
}

// ReceiptAction is the audit action of a disposal receipt.
const ReceiptAction = "retention.dispose"

// receiptIDs is how many pseudonymised IDs one receipt carries; a larger
// batch gets several receipts, so that each fits an audit event.
const receiptIDs = 500

// receipt writes the receipts of a disposed batch: policy, action, count,
// pseudonymised IDs (keyed hashes, 16 characters each) and time; never the
// content.
func (w *walker) receipt(ctx context.Context, ids []string) error {
	parts := (len(ids) + receiptIDs - 1) / receiptIDs
	for part := range parts {
		chunk := ids[part*receiptIDs : min(len(ids), (part+1)*receiptIDs)]
		md := []audit.Attr{
			{Key: "dataset", Value: w.p.Dataset},
			{Key: "category", Value: w.p.Category},
			{Key: "period", Value: w.p.Period},
			{Key: "since", Value: string(w.p.Since)},
			{Key: "action", Value: string(w.p.Action)},
			{Key: "count", Value: strconv.Itoa(len(chunk))},
			{Key: "batch", Value: strconv.Itoa(w.batches)},
		}
		if parts > 1 {
			md = append(md, audit.Attr{Key: "part", Value: fmt.Sprintf("%d/%d", part+1, parts)})
		}
		var b strings.Builder
		n := 0
		for _, id := range chunk {
			if b.Len()+17 > audit.MaxFieldLen {
				md = append(md, audit.Attr{Key: "ids." + strconv.Itoa(n), Value: b.String()})
				b.Reset()
				n++
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(PseudonymousID(w.s.opts.HashKey, w.p.Dataset, id))
		}
		md = append(md, audit.Attr{Key: "ids." + strconv.Itoa(n), Value: b.String()})
		err := w.s.opts.Audit.Record(ctx, audit.Event{
			ID:       w.s.ids.Next(w.s.clock.Now()),
			Action:   ReceiptAction,
			Actor:    audit.Actor{ID: w.s.owner, Kind: dataward.ActorSystem},
			Resource: audit.Resource{Type: "retention.dataset", ID: w.p.Dataset},
			Reason:   w.p.Reason,
			Metadata: md,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// PseudonymousID returns the pseudonym of a record ID in a disposal
// receipt: 16 characters of base64url of HMAC-SHA256 under key, domain
// separated by data set. With the key, a host can tell whether a given
// record was disposed of; without it, the receipt reveals nothing.
func PseudonymousID(key []byte, dataset, id string) string {
	return keyedHash(key, dataset, "id", id)[2:18]
}

// Run sweeps now and then every Options.Interval, varied by
// Options.Jitter, until ctx is done; then it returns ctx's error. Errors of
// a sweep go to Options.OnError and do not stop Run. The caller owns the
// goroutine:
//
//	go sweeper.Run(ctx)
func (s *Sweeper) Run(ctx context.Context) error {
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil && s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		wait := s.opts.Interval
		if j := s.opts.Jitter; j > 0 {
			wait = time.Duration(float64(wait) * (1 + j*(2*rand.Float64()-1)))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
