// Package retentiontest checks that a [retention.Store] implementation
// keeps the contract that the [retention.Sweeper] relies on. A host that
// writes its own store runs the whole suite from one test:
//
//	func TestRetentionStoreConformance(t *testing.T) {
//		retentiontest.Run(t, func(t *testing.T) retention.Store {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library. Each case runs as a subtest
// with a stable name, on a fresh store made by newStore.
package retentiontest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/conformance"
	"github.com/dataward/dataward/retention"
)

type testCase = conformance.Case[retention.Store]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it):
//
//	retentiontest.Run(t, func(t *testing.T) retention.Store { return retention.NewMemStore() })
func Run(t *testing.T, newStore func(t *testing.T) retention.Store) {
	t.Helper()
	conformance.Run(t, cases, newStore)
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// hold returns test hold number n, of each kind in turn, with every field
// set as a Sweeper sets it.
func hold(n int) retention.Hold {
	at := base.Add(time.Duration(n) * time.Millisecond)
	h := retention.Hold{
		ID:      fmt.Sprintf("%08x-0000-7000-8000-%012x", n, n),
		Reason:  fmt.Sprintf("litigation %d, «urgent»", n),
		Created: at,
	}
	switch n % 3 {
	case 0:
		h.Subject = dataward.SubjectID(fmt.Sprintf("subject-é-%d", n))
		h.Until = at.Add(time.Hour + time.Microsecond)
	case 1:
		h.Dataset, h.Record = "tickets", fmt.Sprintf("rec/%d", n)
	case 2:
		h.Category = "user.contact"
	}
	return h
}

func sameHolds(got, want []retention.Hold) error {
	if len(got) != len(want) {
		return fmt.Errorf("Holds returned %d holds, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Created.Equal(w.Created) || !g.Until.Equal(w.Until) {
			return fmt.Errorf("Holds()[%d] has times %v, %v; want %v, %v", i, g.Created, g.Until, w.Created, w.Until)
		}
		g.Created, g.Until, w.Created, w.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			return fmt.Errorf("Holds()[%d] = %+v, want %+v", i, g, w)
		}
	}
	return nil
}

func checkHolds(ctx context.Context, s retention.Store, want ...retention.Hold) error {
	got, err := s.Holds(ctx)
	if err != nil {
		return fmt.Errorf("Holds: %v", err)
	}
	return sameHolds(got, want)
}

func addHolds(ctx context.Context, s retention.Store, hs ...retention.Hold) error {
	for _, h := range hs {
		if err := s.AddHold(ctx, h); err != nil {
			return fmt.Errorf("AddHold(%s): %v", h.ID, err)
		}
	}
	return nil
}

func checkEvents(ctx context.Context, s retention.Store, name string, cutoff time.Time, after dataward.SubjectID, limit int, want ...retention.Event) error {
	got, err := s.Events(ctx, name, cutoff, after, limit)
	if err != nil {
		return fmt.Errorf("Events(%q): %v", name, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("Events(%q, after %q, limit %d) returned %d events, want %d", name, after, limit, len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Subject != want[i].Subject || !got[i].Time.Equal(want[i].Time) {
			return fmt.Errorf("Events(%q)[%d] = %+v, want %+v", name, i, got[i], want[i])
		}
	}
	return nil
}

func ev(name string, n int, at time.Time) retention.Event {
	return retention.Event{Name: name, Subject: dataward.SubjectID(fmt.Sprintf("s%02d", n)), Time: at}
}

func acquire(ctx context.Context, s retention.Store, name, owner string, now time.Time, ttl time.Duration, want bool) error {
	ok, err := s.AcquireLease(ctx, name, owner, now, now.Add(ttl))
	if err != nil {
		return fmt.Errorf("AcquireLease(%q, %q): %v", name, owner, err)
	}
	if ok != want {
		return fmt.Errorf("AcquireLease(%q, %q) at %v = %v, want %v", name, owner, now.Sub(base), ok, want)
	}
	return nil
}

func checkCursor(ctx context.Context, s retention.Store, name, want string) error {
	got, err := s.Cursor(ctx, name)
	if err != nil {
		return fmt.Errorf("Cursor(%q): %v", name, err)
	}
	if got != want {
		return fmt.Errorf("Cursor(%q) = %q, want %q", name, got, want)
	}
	return nil
}

var cases = []testCase{
	{
		Name:   "EmptyStore",
		Clause: "a new store has no holds, no events and no cursors",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := checkHolds(ctx, s); err != nil {
				return err
			}
			if err := checkEvents(ctx, s, "unsubscribe", base, "", 10); err != nil {
				return err
			}
			return checkCursor(ctx, s, "retention/a", "")
		},
	},
	{
		Name:   "HoldRoundTrip",
		Clause: "Holds returns every field of every hold as added, in order of ID whatever the order of adding; times to the microsecond, zero times as zero",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := addHolds(ctx, s, hold(4), hold(0), hold(2), hold(1), hold(3)); err != nil {
				return err
			}
			return checkHolds(ctx, s, hold(0), hold(1), hold(2), hold(3), hold(4))
		},
	},
	{
		Name:   "HoldDuplicate",
		Clause: "AddHold of an ID kept already returns an error matching retention.ErrDuplicate and keeps nothing",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := addHolds(ctx, s, hold(1)); err != nil {
				return err
			}
			dup := hold(2)
			dup.ID = hold(1).ID
			if err := s.AddHold(ctx, dup); !errors.Is(err, retention.ErrDuplicate) {
				return fmt.Errorf("AddHold of a duplicate ID returned %v, want an error matching retention.ErrDuplicate", err)
			}
			return checkHolds(ctx, s, hold(1))
		},
	},
	{
		Name:   "HoldRemove",
		Clause: "RemoveHold deletes that hold and only it; removing an ID no hold has returns an error matching retention.ErrNotFound",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := addHolds(ctx, s, hold(1), hold(2), hold(3)); err != nil {
				return err
			}
			if err := s.RemoveHold(ctx, hold(2).ID); err != nil {
				return fmt.Errorf("RemoveHold: %v", err)
			}
			if err := s.RemoveHold(ctx, hold(2).ID); !errors.Is(err, retention.ErrNotFound) {
				return fmt.Errorf("RemoveHold of a removed hold returned %v, want an error matching retention.ErrNotFound", err)
			}
			return checkHolds(ctx, s, hold(1), hold(3))
		},
	},
	{
		Name:   "EventsSelect",
		Clause: "Events returns the events of that name at or before the cutoff, of subjects after the given one, in order of subject, at most limit",
		Run: func(ctx context.Context, s retention.Store) error {
			for _, n := range []int{5, 1, 4, 2, 3} {
				if err := s.PutEvent(ctx, ev("unsubscribe", n, base.Add(time.Duration(n)*time.Hour))); err != nil {
					return fmt.Errorf("PutEvent: %v", err)
				}
			}
			if err := s.PutEvent(ctx, ev("account_closed", 1, base)); err != nil {
				return fmt.Errorf("PutEvent: %v", err)
			}
			if err := checkEvents(ctx, s, "unsubscribe", base.Add(4*time.Hour), "", 10,
				ev("unsubscribe", 1, base.Add(time.Hour)), ev("unsubscribe", 2, base.Add(2*time.Hour)),
				ev("unsubscribe", 3, base.Add(3*time.Hour)), ev("unsubscribe", 4, base.Add(4*time.Hour))); err != nil {
				return err
			}
			if err := checkEvents(ctx, s, "unsubscribe", base.Add(10*time.Hour), "s02", 2,
				ev("unsubscribe", 3, base.Add(3*time.Hour)), ev("unsubscribe", 4, base.Add(4*time.Hour))); err != nil {
				return err
			}
			return checkEvents(ctx, s, "account_closed", base, "", 10, ev("account_closed", 1, base))
		},
	},
	{
		Name:   "EventReplaceAndDelete",
		Clause: "PutEvent of a name and subject kept already replaces its time; DeleteEvent forgets it, and returns an error matching retention.ErrNotFound when there is none",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := s.PutEvent(ctx, ev("unsubscribe", 1, base)); err != nil {
				return fmt.Errorf("PutEvent: %v", err)
			}
			if err := s.PutEvent(ctx, ev("unsubscribe", 1, base.Add(time.Hour))); err != nil {
				return fmt.Errorf("PutEvent again: %v", err)
			}
			if err := checkEvents(ctx, s, "unsubscribe", base.Add(time.Hour), "", 10, ev("unsubscribe", 1, base.Add(time.Hour))); err != nil {
				return err
			}
			if err := s.DeleteEvent(ctx, "unsubscribe", "s01"); err != nil {
				return fmt.Errorf("DeleteEvent: %v", err)
			}
			if err := s.DeleteEvent(ctx, "unsubscribe", "s01"); !errors.Is(err, retention.ErrNotFound) {
				return fmt.Errorf("DeleteEvent of a deleted event returned %v, want an error matching retention.ErrNotFound", err)
			}
			return checkEvents(ctx, s, "unsubscribe", base.Add(time.Hour), "", 10)
		},
	},
	{
		Name:   "LeaseExclusive",
		Clause: "a lease held by one owner and not expired is refused to another; its owner may renew it; once expired another owner takes it over; leases of different names are independent",
		Run: func(ctx context.Context, s retention.Store) error {
			steps := []struct {
				name, owner string
				at          time.Duration
				want        bool
			}{
				{"a", "one", 0, true},
				{"a", "two", time.Second, false},
				{"b", "two", time.Second, true},
				{"a", "one", 50 * time.Second, true}, // renewed until 110s
				{"a", "two", 100 * time.Second, false},
				{"a", "two", 110 * time.Second, true}, // expired: taken over
				{"a", "one", 111 * time.Second, false},
			}
			for _, st := range steps {
				if err := acquire(ctx, s, st.name, st.owner, base.Add(st.at), time.Minute, st.want); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Name:   "LeaseRelease",
		Clause: "ReleaseLease by the owner frees the lease at once; by another owner it does nothing",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := acquire(ctx, s, "a", "one", base, time.Minute, true); err != nil {
				return err
			}
			if err := s.ReleaseLease(ctx, "a", "two"); err != nil {
				return fmt.Errorf("ReleaseLease by another owner: %v", err)
			}
			if err := acquire(ctx, s, "a", "two", base, time.Minute, false); err != nil {
				return err
			}
			if err := s.ReleaseLease(ctx, "a", "one"); err != nil {
				return fmt.Errorf("ReleaseLease: %v", err)
			}
			return acquire(ctx, s, "a", "two", base, time.Minute, true)
		},
	},
	{
		Name:   "LeaseConcurrent",
		Clause: "of many owners taking a free lease at the same time, exactly one gets it",
		Run: func(ctx context.Context, s retention.Store) error {
			const n = 8
			var wg sync.WaitGroup
			got := make([]bool, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					got[i], errs[i] = s.AcquireLease(ctx, "a", fmt.Sprintf("owner-%d", i), base, base.Add(time.Minute))
				})
			}
			wg.Wait()
			won := 0
			for i := range n {
				if errs[i] != nil {
					return fmt.Errorf("AcquireLease: %v", errs[i])
				}
				if got[i] {
					won++
				}
			}
			if won != 1 {
				return fmt.Errorf("%d owners got the lease, want 1", won)
			}
			return nil
		},
	},
	{
		Name:   "CursorFenced",
		Clause: "SetCursor keeps the cursor only for the owner of an unexpired lease of that name, and otherwise returns an error matching retention.ErrLeaseLost and keeps nothing; \"\" forgets the cursor",
		Run: func(ctx context.Context, s retention.Store) error {
			if err := s.SetCursor(ctx, "a", "one", "x", base); !errors.Is(err, retention.ErrLeaseLost) {
				return fmt.Errorf("SetCursor without a lease returned %v, want an error matching retention.ErrLeaseLost", err)
			}
			if err := acquire(ctx, s, "a", "one", base, time.Minute, true); err != nil {
				return err
			}
			if err := s.SetCursor(ctx, "a", "one", "rec/é\x1f42", base.Add(time.Second)); err != nil {
				return fmt.Errorf("SetCursor: %v", err)
			}
			if err := checkCursor(ctx, s, "a", "rec/é\x1f42"); err != nil {
				return err
			}
			if err := s.SetCursor(ctx, "a", "two", "y", base.Add(time.Second)); !errors.Is(err, retention.ErrLeaseLost) {
				return fmt.Errorf("SetCursor by another owner returned %v, want an error matching retention.ErrLeaseLost", err)
			}
			if err := s.SetCursor(ctx, "a", "one", "z", base.Add(time.Minute)); !errors.Is(err, retention.ErrLeaseLost) {
				return fmt.Errorf("SetCursor after the lease expired returned %v, want an error matching retention.ErrLeaseLost", err)
			}
			if err := checkCursor(ctx, s, "a", "rec/é\x1f42"); err != nil {
				return err
			}
			if err := checkCursor(ctx, s, "b", ""); err != nil {
				return err
			}
			if err := acquire(ctx, s, "a", "two", base.Add(time.Minute), time.Minute, true); err != nil {
				return err
			}
			if err := s.SetCursor(ctx, "a", "two", "", base.Add(time.Minute)); err != nil {
				return fmt.Errorf("SetCursor(\"\"): %v", err)
			}
			return checkCursor(ctx, s, "a", "")
		},
	},
}
