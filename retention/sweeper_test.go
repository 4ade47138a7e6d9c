package retention_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/retention"
)

var hashKey = []byte("a 32-byte retention hash key....")

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var now0 = date(2026, 3, 1, 12, 0) // 2 months after 31 Dec 2025 ended at 1 March 00:00

func policy(dataset, period string, since retention.Since, action retention.Action) retention.Policy {
	return retention.Policy{Dataset: dataset, Category: "user.contact", Period: period, Since: since, Action: action, Reason: "privacy notice s4"}
}

func schedule(ps ...retention.Policy) *retention.Schedule { return &retention.Schedule{Policies: ps} }

// counting wraps a target and counts how often each record is disposed of.
type counting struct {
	retention.Target
	mu    sync.Mutex
	count map[string]int
	fail  func(b retention.Batch) error // called before each Dispose
}

func newCounting(t retention.Target) *counting { return &counting{Target: t, count: map[string]int{}} }

func (c *counting) Dispose(ctx context.Context, b retention.Batch) ([]string, error) {
	if c.fail != nil {
		if err := c.fail(b); err != nil {
			return nil, err
		}
	}
	done, err := c.Target.Dispose(ctx, b)
	c.mu.Lock()
	for _, id := range done {
		c.count[id]++
	}
	c.mu.Unlock()
	return done, err
}

func (c *counting) twice() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id, n := range c.count {
		if n > 1 {
			out = append(out, id)
		}
	}
	return out
}

func webForms(n int, from time.Time, step time.Duration) *retention.MemTarget {
	t := retention.NewMemTarget()
	for i := range n {
		at := from.Add(time.Duration(i) * step)
		t.Put(retention.Record{ID: fmt.Sprintf("f%04d", i), Subject: dataward.SubjectID(fmt.Sprintf("s%d", i%10)), Created: at, LastActivity: at})
	}
	return t
}

// TestSweepCalendarPeriod: "2 months" since creation on 1 March disposes of
// forms created up to the end of 31 December and keeps the rest; Plan
// says exactly that beforehand, and why.
func TestSweepCalendarPeriod(t *testing.T) {
	ctx := context.Background()
	target := retention.NewMemTarget(
		retention.Record{ID: "dec30", Created: date(2025, 12, 30, 23, 0)},
		retention.Record{ID: "dec31", Created: date(2025, 12, 31, 23, 59)},
		retention.Record{ID: "jan01", Created: date(2026, 1, 1, 0, 0)}, // ends at 1 March 00:00, now: due
		retention.Record{ID: "jan01b", Created: date(2026, 1, 1, 0, 1)},
		retention.Record{ID: "jan02", Created: date(2026, 1, 2, 0, 0)},
	)
	c := &clock{t: date(2026, 3, 1, 0, 0)}
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: c})
	require.NoError(t, err)

	plan, err := sw.Plan(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"dec30", "dec31", "jan01"}, plan.Policies[0].Disposed)
	assert.Equal(t, "created on or before 2026-01-01T00:00:00Z (2 months)", plan.Policies[0].Why)
	assert.Equal(t, 5, target.Len(), "a plan disposes of nothing")

	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.Policies[0].Disposed, rep.Policies[0].Disposed)
	_, ok := target.Get("jan01b")
	assert.True(t, ok, "jan01b's period ends a minute after now: kept")
	assert.Equal(t, 2, target.Len())
}

// TestHoldsAreNeverDisposed: subject, record and category holds keep their
// records through sweeps; an ended or released hold no longer does.
func TestHoldsAreNeverDisposed(t *testing.T) {
	ctx := context.Background()
	target := webForms(30, date(2025, 1, 1, 0, 0), time.Hour)
	c := &clock{t: now0}
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: c, BatchSize: 7})
	require.NoError(t, err)

	sub, err := sw.PlaceHold(ctx, retention.Hold{Subject: "s3", Reason: "litigation 17"})
	require.NoError(t, err)
	rec, err := sw.PlaceHold(ctx, retention.Hold{Dataset: "web_forms", Record: "f0005", Reason: "complaint 9", Until: now0.Add(24 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, "retention: subject hold "+sub.ID, sub.String())

	plan, err := sw.Plan(ctx)
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan, rep, "the plan is exactly the sweep")
	assert.Len(t, rep.Policies[0].Held, 4) // f0003 f0013 f0023 and f0005
	assert.Equal(t, retention.HeldRecord{ID: "f0003", Hold: sub.ID}, rep.Policies[0].Held[0])
	assert.Equal(t, retention.HeldRecord{ID: "f0005", Hold: rec.ID}, rep.Policies[0].Held[1])
	assert.Equal(t, 4, target.Len())

	// A category hold above the policy's category holds the whole data set.
	cat, err := sw.PlaceHold(ctx, retention.Hold{Category: "user", Reason: "regulator inquiry"})
	require.NoError(t, err)
	c.Add(48 * time.Hour) // the record hold has ended
	require.NoError(t, sw.ReleaseHold(ctx, sub.ID))
	rep, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Policies[0].Disposed)
	assert.Len(t, rep.Policies[0].Held, 4)

	require.NoError(t, sw.ReleaseHold(ctx, cat.ID))
	require.ErrorIs(t, sw.ReleaseHold(ctx, cat.ID), retention.ErrNotFound)
	rep, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Policies[0].Disposed, 4)
	assert.Zero(t, target.Len())
}

func TestPlaceHoldRefusesBadHolds(t *testing.T) {
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("a", "1 day", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"a": retention.NewMemTarget()}, &retention.Options{Clock: &clock{t: now0}})
	require.NoError(t, err)
	for _, h := range []retention.Hold{
		{Reason: "r"},
		{Subject: "s", Category: "user", Reason: "r"},
		{Record: "x", Reason: "r"},
		{Category: "nonsense", Reason: "r"},
		{Subject: "s"},
		{Subject: "s\x00", Reason: "r"},
		{Subject: "s", Reason: "r", Until: now0},
		{Subject: "s", Reason: "r", ID: "mine"},
	} {
		_, err := sw.PlaceHold(context.Background(), h)
		require.ErrorIs(t, err, dataward.ErrInvalid, "%+v", h)
		assert.NotContains(t, err.Error(), "s\x00")
	}
	holds, err := sw.Holds(context.Background())
	require.NoError(t, err)
	assert.Empty(t, holds, "nothing is kept")
}

// TestEventTriggerAndAnonymise: "2 years after unsubscribing" counts from
// the recorded event, per subject; a cleared event stops the clock;
// anonymisation rewrites fields by their rules and the record is not
// listed again.
func TestEventTriggerAndAnonymise(t *testing.T) {
	ctx := context.Background()
	target := retention.NewMemTarget()
	for i := range 5 {
		target.Put(retention.Record{
			ID: fmt.Sprintf("c%d", i), Subject: dataward.SubjectID(fmt.Sprintf("s%d", i)), Created: date(2020, 1, 1, 0, 0),
			Fields: map[string]any{"email": fmt.Sprintf("p%d@example.com", i), "name": "Thandi", "dob": "1990-04-17", "postcode": "8001", "age": 37, "note": "x"},
		})
	}
	p := policy("crm", "2 years", retention.SinceEvent, retention.Anonymise)
	p.Event = "unsubscribe"
	p.Fields = []retention.FieldRule{
		{Field: "email", Rule: retention.Hash}, {Field: "name", Rule: retention.Mask},
		{Field: "dob", Rule: retention.Generalise, To: "year"}, {Field: "postcode", Rule: retention.Generalise, To: "prefix:2"},
		{Field: "age", Rule: retention.Generalise, To: "tens"}, {Field: "note", Rule: retention.Null},
	}
	c := &clock{t: now0}
	sw, err := retention.New(retention.NewMemStore(), schedule(p), map[string]retention.Target{"crm": target},
		&retention.Options{Clock: c, HashKey: hashKey, BatchSize: 2})
	require.NoError(t, err)
	require.NoError(t, sw.RecordEvent(ctx, "unsubscribe", "s1", date(2024, 2, 29, 10, 0))) // ends 1 March 2026 00:00
	require.NoError(t, sw.RecordEvent(ctx, "unsubscribe", "s2", date(2024, 3, 1, 12, 0)))  // ends at now0: due
	require.NoError(t, sw.RecordEvent(ctx, "unsubscribe", "s3", date(2024, 3, 1, 12, 1)))  // a minute short
	require.NoError(t, sw.RecordEvent(ctx, "unsubscribe", "s4", date(2023, 1, 1, 0, 0)))
	require.NoError(t, sw.ClearEvent(ctx, "unsubscribe", "s4")) // subscribed again
	require.ErrorIs(t, sw.ClearEvent(ctx, "unsubscribe", "s4"), retention.ErrNotFound)
	require.ErrorIs(t, sw.RecordEvent(ctx, "un subscribe", "s4", now0), dataward.ErrInvalid)

	plan, err := sw.Plan(ctx)
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan, rep)
	assert.Equal(t, []string{"c1", "c2"}, rep.Policies[0].Disposed)

	r, _ := target.Get("c1")
	assert.Regexp(t, `^h:[A-Za-z0-9_-]{22}$`, r.Fields["email"])
	assert.Equal(t, map[string]any{"email": r.Fields["email"], "name": retention.MaskText, "dob": "1990", "postcode": "80*", "age": 30, "note": nil}, r.Fields)
	assert.False(t, r.Disposed.IsZero())
	r3, _ := target.Get("c3")
	assert.Equal(t, "Thandi", r3.Fields["name"])

	rep, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Policies[0].Disposed, "anonymised records are not listed again")
}

// TestShredThroughKeyringShredder: a type whose Shred returns a value
// besides the error (as *pii.Keyring's does) is adapted without this
// package naming it; each subject is shredded once per batch.
func TestShredThroughKeyringShredder(t *testing.T) {
	ctx := context.Background()
	kr := &fakeKeyring{}
	target := webForms(10, date(2020, 1, 1, 0, 0), time.Hour)
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred)),
		map[string]retention.Target{"backups": target}, &retention.Options{Clock: &clock{t: now0}, Shredder: retention.KeyringShredder(kr)})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Policies[0].Disposed, 10)
	assert.ElementsMatch(t, []dataward.SubjectID{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"}, kr.shredded)
}

type tombstone struct{}

type fakeKeyring struct{ shredded []dataward.SubjectID }

func (k *fakeKeyring) Shred(_ context.Context, s dataward.SubjectID) (tombstone, error) {
	k.shredded = append(k.shredded, s)
	return tombstone{}, nil
}

// TestFixedDate: a period since a fixed date disposes of nothing before it
// ends and of every record after.
func TestFixedDate(t *testing.T) {
	ctx := context.Background()
	p := policy("contracts", "1 year", retention.SinceDate, retention.Delete)
	p.Date = date(2025, 3, 1, 12, 0)
	target := webForms(3, date(2026, 1, 1, 0, 0), time.Hour)
	c := &clock{t: date(2026, 3, 1, 11, 59)}
	sw, err := retention.New(retention.NewMemStore(), schedule(p), map[string]retention.Target{"contracts": target}, &retention.Options{Clock: c})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Policies[0].Disposed)
	assert.Contains(t, rep.Policies[0].Why, "nothing before 2026-03-01T12:00:00Z")
	c.Add(time.Minute)
	rep, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Policies[0].Disposed, 3)
}

// TestCapResumesAndPlanMatches: MaxPerRun stops a sweep; the next resumes
// where it stopped, and each Plan matches its sweep.
func TestCapResumesAndPlanMatches(t *testing.T) {
	ctx := context.Background()
	target := newCounting(webForms(25, date(2025, 1, 1, 0, 0), time.Hour))
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: &clock{t: now0}, BatchSize: 4, MaxPerRun: 10})
	require.NoError(t, err)
	var all []string
	for _, want := range []int{10, 10, 5, 0} {
		plan, err := sw.Plan(ctx)
		require.NoError(t, err)
		rep, err := sw.Sweep(ctx)
		require.NoError(t, err)
		assert.Equal(t, plan, rep)
		assert.Len(t, rep.Policies[0].Disposed, want)
		assert.Equal(t, want == 10, rep.Policies[0].Capped)
		all = append(all, rep.Policies[0].Disposed...)
	}
	assert.Len(t, all, 25)
	assert.Empty(t, target.twice())
}

// TestLeaseOneSweeperPerDataset: while one sweeper holds a data set's
// lease, another skips it; once the lease expires (a crash), it takes
// over and resumes from the cursor, disposing of nothing twice.
func TestLeaseOneSweeperPerDataset(t *testing.T) {
	ctx := context.Background()
	store := retention.NewMemStore()
	target := newCounting(webForms(20, date(2025, 1, 1, 0, 0), time.Hour))
	c := &clock{t: now0}
	sched := schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete))
	opts := func(owner string) *retention.Options {
		return &retention.Options{Clock: c, BatchSize: 5, Owner: owner, LeaseTTL: time.Minute}
	}
	a, err := retention.New(store, sched, map[string]retention.Target{"web_forms": target}, opts("a"))
	require.NoError(t, err)
	b, err := retention.New(store, sched, map[string]retention.Target{"web_forms": target}, opts("b"))
	require.NoError(t, err)

	// a crashes in its third batch, holding the lease.
	crash := errors.New("crash")
	calls := 0
	target.fail = func(retention.Batch) error {
		if calls++; calls == 3 {
			return crash
		}
		return nil
	}
	// A real crash skips the release of the lease that a failed sweep
	// does: take it again for a, as it was at the crash.
	rep, err := a.Sweep(ctx)
	require.ErrorIs(t, err, crash)
	assert.Len(t, rep.Policies[0].Disposed, 10)
	ok, err := store.AcquireLease(ctx, "retention/web_forms", "a", c.Now(), c.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	target.fail = nil

	rep, err = b.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, "leased by another sweeper", rep.Policies[0].Skipped)

	c.Add(61 * time.Second)
	rep, err = b.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"f0010", "f0011", "f0012", "f0013", "f0014", "f0015", "f0016", "f0017", "f0018", "f0019"}, rep.Policies[0].Disposed,
		"b resumes after the last batch a completed")
	assert.Empty(t, target.twice())
}

// TestCancelStopsBetweenBatches: a cancelled context stops the sweep after
// the batch in flight; the next sweep resumes.
func TestCancelStopsBetweenBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	target := newCounting(webForms(20, date(2025, 1, 1, 0, 0), time.Hour))
	var stats []retention.BatchStats
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: &clock{t: now0}, BatchSize: 5,
			OnBatch: func(s retention.BatchStats) {
				stats = append(stats, s)
				if len(stats) == 2 {
					cancel()
				}
			}})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, rep.Policies[0].Disposed, 10)
	assert.Equal(t, 5, stats[0].Listed)
	assert.Equal(t, 5, stats[0].Disposed)

	rep, err = sw.Sweep(context.Background())
	require.NoError(t, err)
	assert.Len(t, rep.Policies[0].Disposed, 10)
	assert.Empty(t, target.twice())
	assert.Zero(t, target.Target.(*retention.MemTarget).Len())
}

// TestReceipts: each batch writes a receipt with policy, action, count and
// pseudonymised IDs, never the IDs or content.
func TestReceipts(t *testing.T) {
	ctx := context.Background()
	logger, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: hashKey})
	require.NoError(t, err)
	defer logger.Close(ctx)
	target := webForms(12, date(2025, 1, 1, 0, 0), time.Hour)
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: &clock{t: now0}, BatchSize: 5, Audit: logger, HashKey: hashKey})
	require.NoError(t, err)
	_, err = sw.Sweep(ctx)
	require.NoError(t, err)

	events, _, err := logger.Query(ctx, audit.Query{Action: retention.ReceiptAction})
	require.NoError(t, err)
	require.Len(t, events, 3)
	md := map[string]string{}
	for _, a := range events[2].Metadata {
		md[a.Key] = a.Value
	}
	assert.Equal(t, "2", md["count"])
	assert.Equal(t, "delete", md["action"])
	assert.Equal(t, "web_forms", md["dataset"])
	assert.Equal(t, retention.PseudonymousID(hashKey, "web_forms", "f0010")+" "+retention.PseudonymousID(hashKey, "web_forms", "f0011"), md["ids.0"])
	assert.Equal(t, "privacy notice s4", events[2].Reason)
	for _, ev := range events {
		e := ev.Event
		e.ID = "" // random hex, which may hold "f00"
		for i := range 12 {
			assert.NotContains(t, fmt.Sprint(e), fmt.Sprintf("f%04d", i), "no clear record ID")
		}
	}
}

// TestNewRefusesBadSetup: every problem of a setup is reported at once,
// before anything is disposed of.
func TestNewRefusesBadSetup(t *testing.T) {
	dir, err := retention.NewDirTarget(t.TempDir(), "*.log")
	require.NoError(t, err)
	anon := policy("crm", "2 years", retention.SinceCreated, retention.Anonymise)
	anon.Fields = []retention.FieldRule{{Field: "email", Rule: retention.Hash}}
	logs := policy("logs", "3 days", retention.SinceCreated, retention.Anonymise)
	logs.Fields = []retention.FieldRule{{Field: "x", Rule: retention.Null}}
	_, err = retention.New(retention.NewMemStore(),
		schedule(anon, logs, policy("keys", "1 year", retention.SinceCreated, retention.Shred), policy("orphan", "1 day", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"crm": retention.NewMemTarget(), "logs": dir, "keys": retention.NewMemTarget(), "extra": retention.NewMemTarget()},
		&retention.Options{BatchSize: -1, Jitter: 2})
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	var msgs []string
	for _, p := range ve.Problems {
		msgs = append(msgs, p.Field+" "+p.Message)
	}
	assert.Equal(t, []string{
		"Options.BatchSize must be at least 0",
		"Options.Jitter must be at most 1",
		"policies[1] cannot be carried out by its target: a directory target cannot anonymise, only delete",
		"policies[2].action is \"shred\", but Options.Shredder is nil",
		"policies[3].dataset has no target: targets has no entry \"orphan\"",
		"targets[\"extra\"] has no policy in the schedule",
		"Options.HashKey must be at least 16 bytes with Options.Audit or a \"hash\" rule",
	}, msgs)

	_, err = retention.New(nil, nil, nil, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
}

// TestDirTarget: files older than the period go, newer ones and files not
// matching the pattern stay; a file touched since it was listed stays.
func TestDirTarget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "2026", "02"), 0o755))
	files := map[string]time.Time{
		"2026/02/a.log": now0.Add(-4 * 24 * time.Hour),
		"2026/02/b.log": now0.Add(-3 * 24 * time.Hour),
		"c.log":         now0.Add(-3*24*time.Hour + time.Second),
		"d.txt":         now0.Add(-10 * 24 * time.Hour),
	}
	for name, mt := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.WriteFile(p, []byte("log"), 0o600))
		require.NoError(t, os.Chtimes(p, mt, mt))
	}
	target, err := retention.NewDirTarget(dir, "*.log")
	require.NoError(t, err)
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("logs", "3 days", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"logs": target}, &retention.Options{Clock: &clock{t: now0}})
	require.NoError(t, err)
	plan, err := sw.Plan(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"2026/02/a.log", "2026/02/b.log"}, plan.Policies[0].Disposed)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan, rep)
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		assert.Equal(t, !strings.HasPrefix(name, "2026"), err == nil, name)
	}
	_, err = retention.NewDirTarget(filepath.Join(dir, "c.log"), "")
	require.ErrorContains(t, err, "is not a directory")

	// A file written again between listing and disposal is left alone.
	p := filepath.Join(dir, "c.log")
	require.NoError(t, os.Chtimes(p, now0.Add(-5*24*time.Hour), now0.Add(-5*24*time.Hour)))
	q := retention.Query{Dataset: "logs", Since: retention.SinceCreated, Cutoff: now0.Add(-3 * 24 * time.Hour), Limit: 10}
	cands, err := target.Candidates(ctx, q)
	require.NoError(t, err)
	require.Len(t, cands, 1)
	require.NoError(t, os.Chtimes(p, now0, now0))
	done, err := target.Dispose(ctx, retention.Batch{Dataset: "logs", Action: retention.Delete, Query: q, Records: cands})
	require.NoError(t, err)
	assert.Empty(t, done)
	assert.FileExists(t, p)
}

// TestRunSweepsOnAnInterval: Run sweeps at once and again after the
// interval, and returns the context's error.
func TestRunSweepsOnAnInterval(t *testing.T) {
	target := webForms(3, date(2025, 1, 1, 0, 0), time.Hour)
	c := &clock{t: now0}
	swept := make(chan retention.BatchStats, 10)
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("web_forms", "2 months", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"web_forms": target}, &retention.Options{Clock: c, Interval: time.Millisecond, OnBatch: func(s retention.BatchStats) { swept <- s }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sw.Run(ctx) }()
	assert.Equal(t, 3, (<-swept).Disposed)
	target.Put(retention.Record{ID: "late", Created: date(2025, 1, 1, 0, 0)})
	for s := range swept {
		if s.Disposed == 1 {
			break
		}
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
