// Package rbactest checks that a [rbac.Store] implementation, and its
// [rbac.Watcher] if it has one, keep the contract that the
// [rbac.Authorizer] relies on. A host that writes its own store runs the
// whole suite from one test:
//
//	func TestRBACStoreConformance(t *testing.T) {
//		rbactest.Run(t, func(t *testing.T) rbac.Store {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library. Each case runs as a subtest with
// a stable name, on a fresh store made by newStore. The Watch cases run
// when the store implements [rbac.Watcher] and are skipped otherwise.
package rbactest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward/internal/conformance"
	"github.com/dataward/dataward/rbac"
)

type testCase = conformance.Case[rbac.Store]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it):
//
//	rbactest.Run(t, func(t *testing.T) rbac.Store { return rbac.NewMemStore() })
//
// If the stores implement [rbac.Watcher], the Watch cases check it too;
// otherwise they are skipped.
func Run(t *testing.T, newStore func(t *testing.T) rbac.Store) {
	t.Helper()
	conformance.Run(t, cases, newStore)
	conformance.Run(t, watchCases, func(t *testing.T) rbac.Store {
		s := newStore(t)
		if _, ok := s.(rbac.Watcher); !ok {
			t.Skipf("%T does not implement rbac.Watcher: the Watch cases run only for stores that do (MemStore and sqlstore.RBACStore do)", s)
		}
		return s
	})
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// grant returns test grant number n, with every field set as an Authorizer
// would set it: times in UTC to the microsecond, an ID that is a UUIDv7
// growing with n. Odd grants are break-glass, with no NotBefore.
func grant(n int) rbac.Grant {
	at := base.Add(time.Duration(n) * time.Millisecond)
	g := rbac.Grant{
		ID:        grantID(at, n),
		Tenant:    fmt.Sprintf("tenant-%d", n%3),
		User:      fmt.Sprintf("user-%d", n),
		Role:      "role-é-" + fmt.Sprint(n%2),
		NotBefore: at,
		Expires:   at.Add(time.Hour + time.Microsecond),
		Reason:    fmt.Sprintf("reason %d: ticket #%d, «urgent»", n, 4700+n),
		GrantedBy: "admin-1",
		Created:   at,
	}
	if n%2 == 1 {
		g.BreakGlass = true
		g.NotBefore = time.Time{}
	}
	if n%4 == 2 {
		g.Expires = time.Time{}
		g.Tenant = ""
		g.Reason = ""
	}
	return g
}

// grantID returns a UUIDv7 of the instant at, with n in its random bits,
// so that IDs grow with n and a store may keep them in a UUID column.
func grantID(at time.Time, n int) string {
	ms := uint64(at.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7%03x-8000-%012x", ms>>16, ms&0xffff, n&0xfff, n)
}

// checkList checks that List returns want.
func checkList(ctx context.Context, s rbac.Store, want []rbac.Grant) error {
	got, err := s.List(ctx)
	if err != nil {
		return fmt.Errorf("List: %v", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("List returned %d grants, want %d", len(got), len(want))
	}
	for i := range want {
		if !equal(got[i], want[i]) {
			return fmt.Errorf("List()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	return nil
}

// equal compares grants, times by instant and location (UTC).
func equal(a, b rbac.Grant) bool {
	for _, p := range [][2]*time.Time{{&a.NotBefore, &b.NotBefore}, {&a.Expires, &b.Expires}, {&a.Created, &b.Created}} {
		if !p[0].Equal(*p[1]) || p[0].Location() != p[1].Location() && !p[0].IsZero() {
			return false
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	return reflect.DeepEqual(a, b)
}

func add(ctx context.Context, s rbac.Store, gs ...rbac.Grant) error {
	for _, g := range gs {
		if err := s.Add(ctx, g); err != nil {
			return fmt.Errorf("Add(%s): %v", g.ID, err)
		}
	}
	return nil
}

var cases = []testCase{
	{
		Name:   "EmptyStore",
		Clause: "a new store lists no grants",
		Run: func(ctx context.Context, s rbac.Store) error {
			return checkList(ctx, s, nil)
		},
	},
	{
		Name:   "RoundTrip",
		Clause: "List returns every field of every grant as added: text exactly, times to the microsecond in UTC, zero times as zero",
		Run: func(ctx context.Context, s rbac.Store) error {
			gs := []rbac.Grant{grant(0), grant(1), grant(2), grant(3)}
			if err := add(ctx, s, gs...); err != nil {
				return err
			}
			return checkList(ctx, s, gs)
		},
	},
	{
		Name:   "ListOrder",
		Clause: "List returns the grants in order of ID, whatever the order they were added in",
		Run: func(ctx context.Context, s rbac.Store) error {
			if err := add(ctx, s, grant(5), grant(1), grant(3), grant(4), grant(2)); err != nil {
				return err
			}
			return checkList(ctx, s, []rbac.Grant{grant(1), grant(2), grant(3), grant(4), grant(5)})
		},
	},
	{
		Name:   "DuplicateID",
		Clause: "Add of a grant whose ID is kept already returns an error matching rbac.ErrDuplicate and keeps nothing",
		Run: func(ctx context.Context, s rbac.Store) error {
			if err := add(ctx, s, grant(1)); err != nil {
				return err
			}
			dup := grant(2)
			dup.ID = grant(1).ID
			if err := s.Add(ctx, dup); !errors.Is(err, rbac.ErrDuplicate) {
				return fmt.Errorf("Add of a duplicate ID returned %v, want an error matching rbac.ErrDuplicate", err)
			}
			return checkList(ctx, s, []rbac.Grant{grant(1)})
		},
	},
	{
		Name:   "Remove",
		Clause: "Remove deletes the grant with the ID, and only it; its ID may then be added again",
		Run: func(ctx context.Context, s rbac.Store) error {
			if err := add(ctx, s, grant(1), grant(2), grant(3)); err != nil {
				return err
			}
			if err := s.Remove(ctx, grant(2).ID); err != nil {
				return fmt.Errorf("Remove: %v", err)
			}
			if err := checkList(ctx, s, []rbac.Grant{grant(1), grant(3)}); err != nil {
				return fmt.Errorf("after Remove: %v", err)
			}
			if err := add(ctx, s, grant(2)); err != nil {
				return fmt.Errorf("after Remove: %v", err)
			}
			return checkList(ctx, s, []rbac.Grant{grant(1), grant(2), grant(3)})
		},
	},
	{
		Name:   "RemoveNotFound",
		Clause: "Remove of an ID no grant has returns an error matching rbac.ErrNotFound, and removes nothing",
		Run: func(ctx context.Context, s rbac.Store) error {
			if err := add(ctx, s, grant(1)); err != nil {
				return err
			}
			for _, id := range []string{grant(2).ID, ""} {
				if err := s.Remove(ctx, id); !errors.Is(err, rbac.ErrNotFound) {
					return fmt.Errorf("Remove(%q) returned %v, want an error matching rbac.ErrNotFound", id, err)
				}
			}
			return checkList(ctx, s, []rbac.Grant{grant(1)})
		},
	},
	{
		Name:   "ConcurrentAdds",
		Clause: "concurrent Adds of distinct grants all succeed and are all listed",
		Run: func(ctx context.Context, s rbac.Store) error {
			const n = 40
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = s.Add(ctx, grant(i)) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("concurrent Add: %v", err)
			}
			want := make([]rbac.Grant, n)
			for i := range want {
				want[i] = grant(i)
			}
			return checkList(ctx, s, want)
		},
	},
	{
		Name:   "CanceledContext",
		Clause: "Add and Remove with a canceled context fail and change nothing; List fails",
		Run: func(ctx context.Context, s rbac.Store) error {
			if err := add(ctx, s, grant(1)); err != nil {
				return err
			}
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if err := s.Add(canceled, grant(2)); err == nil {
				return errors.New("Add with a canceled context returned no error")
			}
			if err := s.Remove(canceled, grant(1).ID); err == nil {
				return errors.New("Remove with a canceled context returned no error")
			}
			if _, err := s.List(canceled); err == nil {
				return errors.New("List with a canceled context returned no error")
			}
			return checkList(ctx, s, []rbac.Grant{grant(1)})
		},
	},
}

// startWatch calls Watch in a new goroutine.
func startWatch(ctx context.Context, s rbac.Store) *conformance.Watching {
	return conformance.StartWatch(ctx, "Watch", s.(rbac.Watcher).Watch)
}

// watchCases run only on stores that implement [rbac.Watcher]. They do not
// check that Watch never sends without cause: it may.
var watchCases = []testCase{
	{
		Name:   "WatchReady",
		Clause: "Watch sends on its channel once it is ready, before any grant is added",
		Run: func(ctx context.Context, s rbac.Store) error {
			w := startWatch(ctx, s)
			return errors.Join(w.Next("once ready"), w.Stop())
		},
	},
	{
		Name:   "WatchAfterChange",
		Clause: "after it is ready, Watch sends again after a grant is added or removed, each time, to every watcher",
		Run: func(ctx context.Context, s rbac.Store) error {
			ws := []*conformance.Watching{startWatch(ctx, s), startWatch(ctx, s)}
			err := func() error {
				for i, w := range ws {
					if err := w.Next("once ready"); err != nil {
						return fmt.Errorf("watcher %d: %v", i+1, err)
					}
				}
				steps := []struct {
					name string
					do   func() error
				}{
					{"Add", func() error { return s.Add(ctx, grant(1)) }},
					{"a second Add", func() error { return s.Add(ctx, grant(2)) }},
					{"Remove", func() error { return s.Remove(ctx, grant(1).ID) }},
				}
				for _, step := range steps {
					if err := step.do(); err != nil {
						return fmt.Errorf("%s: %v", step.name, err)
					}
					for i, w := range ws {
						if err := w.Next("after " + step.name); err != nil {
							return fmt.Errorf("watcher %d: %v", i+1, err)
						}
					}
				}
				return nil
			}()
			return errors.Join(err, ws[0].Stop(), ws[1].Stop())
		},
	},
	{
		Name:   "WatchStopsOnCancel",
		Clause: "Watch returns ctx's error once ctx is done, whether it was canceled while Watch ran or before",
		Run: func(ctx context.Context, s rbac.Store) error {
			w := startWatch(ctx, s)
			err := errors.Join(w.Next("once ready"), w.Stop())
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			early := startWatch(canceled, s)
			early.Call = "Watch with a canceled context"
			return errors.Join(err, early.Stop())
		},
	},
}
