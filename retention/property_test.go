package retention_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// TestPropertySweep runs thousands of random policies over random records,
// events and holds, and checks at a fixed instant that:
//   - Plan lists exactly what the sweep then disposes of;
//   - no record covered by a hold in force is disposed of;
//   - no record is disposed of before its period has ended;
//   - every record whose period has ended and that no hold covers is
//     disposed of;
//   - a sweep that crashes at a random batch, finished by another sweeper
//     once the lease expires, ends in the same state, disposing of nothing
//     twice.
func TestPropertySweep(t *testing.T) {
	rounds := 600
	if testing.Short() {
		rounds = 60
	}
	policies := 0
	for round := range rounds {
		policies += propertyRound(t, uint64(round))
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
	t.Logf("%d rounds, %d policies", rounds, policies)
}

var (
	units      = []string{"days", "weeks", "months", "years"}
	sinces     = []retention.Since{retention.SinceCreated, retention.SinceLastActivity, retention.SinceEvent, retention.SinceDate}
	actions    = []retention.Action{retention.Delete, retention.Anonymise, retention.Shred}
	categories = []string{"user.contact", "user.contact.email", "user.financial", "user.behavior"}
)

func propertyRound(t *testing.T, seed uint64) int {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	now := date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60)).Add(time.Duration(rng.IntN(1e9)))
	if rng.IntN(3) == 0 { // around month ends, where clamping happens
		now = time.Date(2026, time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(rng.IntN(3*24)) * time.Hour)
	}
	anyTime := func() time.Time { return now.Add(-time.Duration(rng.Int64N(int64(6 * 365 * 24 * time.Hour)))) }
	subject := func() dataward.SubjectID { return dataward.SubjectID(fmt.Sprintf("s%02d", rng.IntN(40))) }

	type rec struct {
		retention.Record
		dataset string
	}
	sched := &retention.Schedule{}
	targets := map[string]retention.Target{}
	twins := map[string]*retention.MemTarget{} // the same records, for the crash run
	var records []rec
	for i := range 1 + rng.IntN(6) {
		p := retention.Policy{
			Dataset:  fmt.Sprintf("ds%d", i),
			Category: categories[rng.IntN(len(categories))],
			Period:   fmt.Sprintf("%d %s", 1+rng.IntN(30), units[rng.IntN(len(units))]),
			Since:    sinces[rng.IntN(len(sinces))],
			Action:   actions[rng.IntN(len(actions))],
			Reason:   "notice",
		}
		switch p.Since {
		case retention.SinceEvent:
			p.Event = []string{"unsubscribe", "account_closed"}[rng.IntN(2)]
		case retention.SinceDate:
			p.Date = anyTime()
		}
		if p.Action == retention.Anonymise {
			p.Fields = []retention.FieldRule{{Field: "email", Rule: retention.Hash}}
		}
		sched.Policies = append(sched.Policies, p)
		mt, twin := retention.NewMemTarget(), retention.NewMemTarget()
		for j := range rng.IntN(300) {
			r := retention.Record{ID: fmt.Sprintf("r%04d", j), Subject: subject(), Created: anyTime(), Fields: map[string]any{"email": "x"}}
			r.LastActivity = r.Created.Add(time.Duration(rng.Int64N(int64(now.Sub(r.Created)) + 1)))
			if rng.IntN(20) == 0 {
				r.Subject = ""
			}
			mt.Put(r)
			twin.Put(r)
			records = append(records, rec{r, p.Dataset})
		}
		targets[p.Dataset] = nextIfOdd(newCounting(mt), seed)
		twins[p.Dataset] = twin
	}

	stores := []*retention.MemStore{retention.NewMemStore(), retention.NewMemStore()}
	events := map[string]map[dataward.SubjectID]time.Time{"unsubscribe": {}, "account_closed": {}}
	for range rng.IntN(60) {
		name := []string{"unsubscribe", "account_closed"}[rng.IntN(2)]
		e := retention.Event{Name: name, Subject: subject(), Time: anyTime().Truncate(time.Microsecond)}
		events[name][e.Subject] = e.Time
		for _, s := range stores {
			require.NoError(t, s.PutEvent(ctx, e))
		}
	}
	var holds []retention.Hold
	for i := range rng.IntN(8) {
		h := retention.Hold{ID: fmt.Sprintf("h%d", i), Reason: "r", Created: now}
		switch rng.IntN(3) {
		case 0:
			h.Subject = subject()
		case 1:
			h.Dataset, h.Record = fmt.Sprintf("ds%d", rng.IntN(len(sched.Policies))), fmt.Sprintf("r%04d", rng.IntN(300))
		case 2:
			h.Category = []string{"user.contact", "user.contact.email", "user.financial", "user"}[rng.IntN(4)]
		}
		if rng.IntN(3) == 0 {
			h.Until = now.Add(time.Duration(rng.IntN(4)-2) * time.Hour) // ended or not
		}
		holds = append(holds, h)
		for _, s := range stores {
			require.NoError(t, s.AddHold(ctx, h))
		}
	}

	// What must go, worked out independently of the sweeper.
	pol := map[string]retention.Policy{}
	for _, p := range sched.Policies {
		pol[p.Dataset] = p
	}
	// Shredding a subject makes all of its data unreadable: a Shred
	// policy keeps every record of a subject some record of which a hold
	// covers, by its ID or by its data set's category, in any data set.
	covers := func(h retention.Hold, category string) bool {
		return h.Category == category || len(category) > len(h.Category) && category[:len(h.Category)+1] == h.Category+"."
	}
	shredHeld := map[dataward.SubjectID]bool{}
	for _, h := range holds {
		if !h.Until.IsZero() && !now.Before(h.Until) {
			continue
		}
		for _, r := range records {
			if r.Subject != "" && (h.Record != "" && h.Dataset == r.dataset && h.Record == r.ID ||
				h.Category != "" && covers(h, pol[r.dataset].Category)) {
				shredHeld[r.Subject] = true
			}
		}
	}
	want := map[string][]string{}
	mustStay := map[string]bool{}
	for _, r := range records {
		p := pol[r.dataset]
		period, err := retention.ParsePeriod(p.Period)
		require.NoError(t, err)
		var start time.Time
		switch p.Since {
		case retention.SinceCreated:
			start = r.Created
		case retention.SinceLastActivity:
			start = r.LastActivity
		case retention.SinceEvent:
			start = events[p.Event][r.Subject]
		case retention.SinceDate:
			start = p.Date
		}
		due := !start.IsZero() && !period.End(start).After(now)
		if p.Since == retention.SinceEvent && r.Subject == "" {
			due = false
		}
		held := false
		for _, h := range holds {
			if !h.Until.IsZero() && !now.Before(h.Until) {
				continue
			}
			held = held || h.Subject != "" && h.Subject == r.Subject ||
				h.Record != "" && h.Dataset == r.dataset && h.Record == r.ID ||
				h.Category != "" && covers(h, p.Category)
		}
		held = held || p.Action == retention.Shred && shredHeld[r.Subject]
		if due && !held {
			want[r.dataset] = append(want[r.dataset], r.ID)
		} else {
			mustStay[r.dataset+"/"+r.ID] = true
		}
	}

	crash := errors.New("crash")
	// What must be shredded: the subjects of the records of Shred
	// policies that go, and no subject with data held.
	wantShred := map[dataward.SubjectID]bool{}
	for _, r := range records {
		if pol[r.dataset].Action == retention.Shred && r.Subject != "" && slices.Contains(want[r.dataset], r.ID) {
			wantShred[r.Subject] = true
		}
	}
	shredded := map[dataward.SubjectID]bool{}
	shredFails := 0 // the crash run's shredder fails at this call (0: never)
	shredCalls := 0
	shredder := retention.ShredderFunc(func(_ context.Context, s dataward.SubjectID) error {
		if shredCalls++; shredCalls == shredFails {
			return crash
		}
		shredded[s] = true
		return nil
	})
	opts := &retention.Options{Clock: &clock{t: now}, BatchSize: 1 + rng.IntN(50), HashKey: hashKey, Owner: "a", LeaseTTL: time.Minute,
		Shredder: shredder}
	sw, err := retention.New(stores[0], sched, targets, opts)
	require.NoError(t, err)
	plan, err := sw.Plan(ctx)
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	for i, p := range sched.Policies {
		require.Equal(t, plan.Policies[i], rep.Policies[i], "round %d: Plan and Sweep of %s differ", seed, p.Dataset)
		got := slices.Sorted(slices.Values(rep.Policies[i].Disposed))
		require.Equal(t, want[p.Dataset], nilIfEmpty(got), "round %d: %s (%s since %s, %s) at %v", seed, p.Dataset, p.Period, p.Since, p.Action, now)
		for _, id := range got {
			require.False(t, mustStay[p.Dataset+"/"+id], "round %d: %s/%s disposed of, held or not due", seed, p.Dataset, id)
		}
		require.Empty(t, countingOf(targets[p.Dataset]).twice())
	}
	require.Equal(t, wantShred, shredded, "round %d: the subjects shredded", seed)

	// The same again, crashing at a random batch, or between a batch's
	// disposal and its subjects' shredding, and finished by another
	// sweeper after the lease expires.
	crashTargets := map[string]retention.Target{}
	counted := map[string]*counting{}
	crashAt := 1 + rng.IntN(6)
	batches := 0
	clear(shredded)
	shredCalls, shredFails = 0, rng.IntN(2)*(1+rng.IntN(8))
	for ds, twin := range twins {
		c := newCounting(twin)
		c.fail = func(retention.Batch) error {
			if batches++; batches == crashAt && shredFails >= 0 {
				return crash
			}
			return nil
		}
		crashTargets[ds], counted[ds] = nextIfOdd(c, seed), c
	}
	c := &clock{t: now}
	o1 := *opts
	o1.Clock = c
	first, err := retention.New(stores[1], sched, crashTargets, &o1)
	require.NoError(t, err)
	_, err = first.Sweep(ctx)
	if err != nil {
		require.ErrorIs(t, err, crash)
	}
	c.Add(time.Minute)
	shredFails = -1 // the second sweeper neither crashes nor fails to shred
	o2 := o1
	o2.Owner = "b"
	second, err := retention.New(stores[1], sched, crashTargets, &o2)
	require.NoError(t, err)
	_, err = second.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, wantShred, shredded, "round %d: the subjects shredded after a crash", seed)
	for _, p := range sched.Policies {
		require.Empty(t, counted[p.Dataset].twice(), "round %d: disposed of twice after a crash", seed)
		var got []string
		for id := range counted[p.Dataset].count {
			got = append(got, id)
		}
		slices.Sort(got)
		require.Equal(t, want[p.Dataset], got, "round %d: %s after a crash", seed, p.Dataset)
	}
	return len(sched.Policies)
}

// nextCounting is a counting target that is a [retention.NextDisposer]:
// it lists and disposes of the next batch in one call, as a SQL target
// does in one transaction.
type nextCounting struct{ *counting }

func (c nextCounting) DisposeNext(ctx context.Context, b retention.Batch) ([]string, error) {
	cands, err := c.Candidates(ctx, b.Query)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	b.Records = cands
	done, err := c.Dispose(ctx, b)
	if err != nil {
		return nil, err
	}
	slices.Sort(done)
	return done, nil
}

// nextIfOdd returns c as a NextDisposer in odd rounds, so that the
// property holds both ways.
func nextIfOdd(c *counting, seed uint64) retention.Target {
	if seed%2 == 1 {
		return nextCounting{c}
	}
	return c
}

func countingOf(t retention.Target) *counting {
	if n, ok := t.(nextCounting); ok {
		return n.counting
	}
	return t.(*counting)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
