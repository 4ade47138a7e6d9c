package retention_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/retention"
)

// shredLog records the subjects shredded.
type shredLog struct {
	mu  sync.Mutex
	got []dataward.SubjectID
}

func (s *shredLog) Shred(_ context.Context, subject dataward.SubjectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, subject)
	return nil
}

// activeAfterListing is a MemTarget whose record comes alive between
// listing and disposal: the host writes it (last activity now) once the
// sweeper has listed it.
type activeAfterListing struct {
	*retention.MemTarget
	id  string
	now time.Time
}

func (a *activeAfterListing) Candidates(ctx context.Context, q retention.Query) ([]retention.Candidate, error) {
	cands, err := a.MemTarget.Candidates(ctx, q)
	if r, ok := a.MemTarget.Get(a.id); ok {
		r.LastActivity = a.now
		a.MemTarget.Put(r)
	}
	return cands, err
}

// A record whose last activity moves on between listing and disposal is
// left alone by the target, as the Target contract says; with the Shred
// action its subject must then not be shredded either, or all of the
// (now active) subject's sealed data would be lost.
func TestShredLeavesRecordThatCameAliveAlone(t *testing.T) {
	ctx := context.Background()
	old := date(2024, 1, 1, 0, 0)
	mem := retention.NewMemTarget(
		retention.Record{ID: "r1", Subject: "alice", Created: old, LastActivity: old},
		retention.Record{ID: "r2", Subject: "bob", Created: old, LastActivity: old},
	)
	target := &activeAfterListing{MemTarget: mem, id: "r1", now: now0}
	shredder := &shredLog{}
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("accounts", "1 year", retention.SinceLastActivity, retention.Shred)),
		map[string]retention.Target{"accounts": target}, &retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"r2"}, rep.Policies[0].Disposed)
	r, _ := mem.Get("r1")
	assert.True(t, r.Disposed.IsZero())
	assert.Equal(t, []dataward.SubjectID{"bob"}, shredder.got, "alice's record came alive: she must not be shredded")
}

// Shredding is per subject: shredding one destroys every record of it, in
// every data set. A hold on one of a subject's records, by its ID or by
// the category of its data set, must keep the subject from being shredded
// for its other, unheld records; those are reported held by that hold.
func TestShredKeepsSubjectWithHeldData(t *testing.T) {
	old := date(2020, 1, 1, 0, 0)
	for _, c := range []struct {
		name string
		hold retention.Hold
	}{
		{"record hold in the data set", retention.Hold{Dataset: "backups", Record: "r1", Reason: "litigation 17"}},
		{"record hold in another data set", retention.Hold{Dataset: "invoices", Record: "i1", Reason: "litigation 17"}},
		{"category hold on another data set", retention.Hold{Category: "user.financial", Reason: "tax audit"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			backups := retention.NewMemTarget(
				retention.Record{ID: "r1", Subject: "alice", Created: old, LastActivity: old},
				retention.Record{ID: "r2", Subject: "alice", Created: old, LastActivity: old},
				retention.Record{ID: "r3", Subject: "bob", Created: old, LastActivity: old},
			)
			invoices := retention.NewMemTarget(retention.Record{ID: "i1", Subject: "alice", Created: now0, LastActivity: now0})
			inv := policy("invoices", "7 years", retention.SinceCreated, retention.Delete)
			inv.Category = "user.financial"
			shredder := &shredLog{}
			sw, err := retention.New(retention.NewMemStore(), schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred), inv),
				map[string]retention.Target{"backups": backups, "invoices": invoices}, &retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
			require.NoError(t, err)
			h, err := sw.PlaceHold(ctx, c.hold)
			require.NoError(t, err)
			plan, err := sw.Plan(ctx)
			require.NoError(t, err)
			rep, err := sw.Sweep(ctx)
			require.NoError(t, err)
			held := []retention.HeldRecord{{ID: "r1", Hold: h.ID}, {ID: "r2", Hold: h.ID}}
			assert.Equal(t, held, rep.Policies[0].Held)
			assert.Equal(t, held, plan.Policies[0].Held)
			assert.Equal(t, []string{"r3"}, rep.Policies[0].Disposed)
			assert.Equal(t, []dataward.SubjectID{"bob"}, shredder.got)
		})
	}
}

// failingShredder fails its first call, as a process that stops between
// a batch's disposal and its subjects' shredding.
type failingShredder struct {
	shredLog
	failed bool
}

func (f *failingShredder) Shred(ctx context.Context, subject dataward.SubjectID) error {
	if !f.failed {
		f.failed = true
		return assert.AnError
	}
	return f.shredLog.Shred(ctx, subject)
}

// If shredding fails after the target disposed of a batch (or the process
// stops there), the next sweep shreds the subjects of the records
// disposed of, although the target no longer lists them; a subject held
// meanwhile is not shredded.
func TestShredFinishedByTheNextSweep(t *testing.T) {
	ctx := context.Background()
	old := date(2020, 1, 1, 0, 0)
	mem := retention.NewMemTarget(
		retention.Record{ID: "r1", Subject: "alice", Created: old, LastActivity: old},
		retention.Record{ID: "r2", Subject: "bob", Created: old, LastActivity: old},
		retention.Record{ID: "r3", Subject: "carol", Created: old, LastActivity: old},
	)
	store := retention.NewMemStore()
	shredder := &failingShredder{}
	sched := schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred))
	opts := &retention.Options{Clock: &clock{t: now0}, Shredder: shredder}
	sw, err := retention.New(store, sched, map[string]retention.Target{"backups": mem}, opts)
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.ErrorIs(t, err, assert.AnError)
	assert.Contains(t, err.Error(), "3 records were disposed of, but shredding their subjects failed")
	assert.Equal(t, []string{"r1", "r2", "r3"}, rep.Policies[0].Disposed)
	assert.Empty(t, shredder.got)

	_, err = sw.PlaceHold(ctx, retention.Hold{Subject: "carol", Reason: "litigation 18"})
	require.NoError(t, err)
	rep, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Policies[0].Disposed)
	assert.Equal(t, []dataward.SubjectID{"alice", "bob"}, shredder.got)

	// Done: a third sweep shreds nothing again.
	_, err = sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []dataward.SubjectID{"alice", "bob"}, shredder.got)
}

// A shred intent the store holds that is not one (damaged by hand, say)
// stops the data set's sweep with an error saying so, rather than being
// ignored: it may name subjects still to shred.
func TestShredIntentDamaged(t *testing.T) {
	ctx := context.Background()
	store := retention.NewMemStore()
	name := "retention/backups shredding"
	ok, err := store.AcquireLease(ctx, name, "someone", now0, now0.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, store.SetCursor(ctx, name, "someone", "not json", now0))
	require.NoError(t, store.ReleaseLease(ctx, name, "someone"))
	mem := retention.NewMemTarget(retention.Record{ID: "r1", Subject: "alice", Created: date(2020, 1, 1, 0, 0)})
	shredder := &shredLog{}
	sw, err := retention.New(store, schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred)),
		map[string]retention.Target{"backups": mem}, &retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, rep.Policies[0].Err, "the shred intent kept is not valid")
	assert.Empty(t, rep.Policies[0].Disposed)
	assert.Empty(t, shredder.got)
}

// While another sweeper holds a data set's shred intent (it is between
// disposing of a batch and shredding its subjects), this one disposes of
// nothing there: it cannot keep its own intent, and says so.
func TestShredIntentHeldByAnother(t *testing.T) {
	ctx := context.Background()
	store := retention.NewMemStore()
	ok, err := store.AcquireLease(ctx, "retention/backups shredding", "someone", now0, now0.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	mem := retention.NewMemTarget(retention.Record{ID: "r1", Subject: "alice", Created: date(2020, 1, 1, 0, 0)})
	shredder := &shredLog{}
	sw, err := retention.New(store, schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred)),
		map[string]retention.Target{"backups": mem}, &retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, rep.Policies[0].Err, retention.ErrLeaseLost)
	assert.Empty(t, rep.Policies[0].Disposed)
	r, _ := mem.Get("r1")
	assert.True(t, r.Disposed.IsZero())
	assert.Empty(t, shredder.got)
}

// listFails is a target whose listing fails.
type listFails struct{ *retention.MemTarget }

func (listFails) Candidates(context.Context, retention.Query) ([]retention.Candidate, error) {
	return nil, assert.AnError
}

// If the records of a subject to shred cannot be listed in a data set
// that a hold covers, the sweep cannot tell whether the hold keeps the
// subject: it fails, naming the data set, and shreds nothing.
func TestShredHoldLookupFails(t *testing.T) {
	ctx := context.Background()
	old := date(2020, 1, 1, 0, 0)
	backups := retention.NewMemTarget(retention.Record{ID: "r1", Subject: "alice", Created: old, LastActivity: old})
	invoices := listFails{retention.NewMemTarget()}
	shredder := &shredLog{}
	sw, err := retention.New(retention.NewMemStore(),
		schedule(policy("backups", "30 days", retention.SinceCreated, retention.Shred), policy("invoices", "7 years", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"backups": backups, "invoices": invoices}, &retention.Options{Clock: &clock{t: now0}, Shredder: shredder})
	require.NoError(t, err)
	_, err = sw.PlaceHold(ctx, retention.Hold{Dataset: "invoices", Record: "i1", Reason: "litigation 17"})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.Error(t, err)
	require.ErrorIs(t, rep.Policies[0].Err, assert.AnError)
	assert.ErrorContains(t, rep.Policies[0].Err, `data set "invoices"`)
	assert.Empty(t, rep.Policies[0].Disposed)
	assert.Empty(t, shredder.got)
}
