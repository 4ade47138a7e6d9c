// Package breachtest checks that a [breach.Store] implementation keeps the
// contract that the [breach.Register] relies on. A host that writes its
// own store runs the whole suite from one test:
//
//	func TestBreachStoreConformance(t *testing.T) {
//		breachtest.Run(t, func(t *testing.T) breach.Store {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library. Each case runs as a subtest
// with a stable name, on a fresh store made by newStore.
package breachtest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/internal/conformance"
)

type testCase = conformance.Case[breach.Store]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it).
func Run(t *testing.T, newStore func(t *testing.T) breach.Store) {
	t.Helper()
	conformance.Run(t, cases, newStore)
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// incidentID returns a UUIDv7-shaped ID that grows with n.
func incidentID(n int) string {
	at := base.Add(time.Duration(n) * time.Millisecond)
	ms := uint64(at.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7%03x-8000-%012x", ms>>16, ms&0xffff, n&0xfff, n)
}

// incident returns version v of test incident n with every field set, as
// a Register would set them: times in UTC to the microsecond.
func incident(n, v int) breach.Incident {
	at := base.Add(time.Duration(n) * time.Hour)
	inc := breach.Incident{
		ID:                incidentID(n),
		Version:           v,
		Updated:           at.Add(time.Duration(v) * time.Minute),
		Status:            breach.Detected,
		AwareAt:           at,
		OccurredFrom:      at.Add(-48 * time.Hour),
		OccurredTo:        at.Add(-time.Hour),
		FoundBy:           "SOC team «night shift»",
		Nature:            []breach.Nature{breach.Confidentiality, breach.UnlawfulAccess},
		Description:       fmt.Sprintf("incident %d: a backup bucket was public.\nSecond line, with é and 日本.", n),
		DataCategories:    []string{"user.contact.email", "user.name"},
		SubjectGroups:     []breach.SubjectGroup{{Category: "customers", Approx: 1200 + n}, {Category: "staff", Approx: 3}},
		Records:           5000 + n,
		Consequences:      "phishing",
		MeasuresTaken:     "bucket made private",
		MeasuresProposed:  "access review",
		SubjectAdvice:     "beware of phishing",
		UnauthorisedParty: "unknown",
		Contact:           breach.Contact{Name: "DPO", Email: "dpo@example.com", Phone: "+27 21 000 0000"},
		Jurisdictions:     []breach.Jurisdiction{{Regime: "gdpr", Subjects: 700}, {Regime: "popia", Subjects: 500 + n}},
		Note:              fmt.Sprintf("version %d", v),
	}
	if v > 1 {
		inc.Status = breach.Assessed
		inc.Risk = breach.HighRisk
		inc.AssessedAt = at.Add(time.Hour)
		inc.DelayReason = "waited for forensics"
		inc.Notifications = []breach.Notification{{Regime: "gdpr", Party: breach.Authority, At: at.Add(2 * time.Hour), Reference: "case-1"}}
	}
	if n%2 == 1 {
		// sparse: the optional fields empty, so that stores keep zero values as zero.
		inc.OccurredFrom, inc.OccurredTo, inc.FoundBy, inc.SubjectGroups, inc.Contact = time.Time{}, time.Time{}, "", nil, breach.Contact{}
		inc.Jurisdictions = nil
	}
	return inc
}

// equal compares incidents, times by instant and location (UTC for non-zero
// times), slices with nil equal to empty.
func equal(a, b breach.Incident) error {
	a, b = a.Clone(), b.Clone()
	ta, tb := times(&a), times(&b)
	for i := range ta {
		if !ta[i].Equal(*tb[i]) || !ta[i].IsZero() && ta[i].Location() != time.UTC {
			return fmt.Errorf("time %d is %v, want %v (in UTC)", i, *ta[i], *tb[i])
		}
		*ta[i], *tb[i] = time.Time{}, time.Time{}
	}
	norm(&a)
	norm(&b)
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("got %+v\nwant %+v", a, b)
	}
	return nil
}

func times(inc *breach.Incident) []*time.Time {
	ts := []*time.Time{&inc.Updated, &inc.AwareAt, &inc.OccurredFrom, &inc.OccurredTo, &inc.AssessedAt}
	for i := range inc.Notifications {
		ts = append(ts, &inc.Notifications[i].At)
	}
	return ts
}

func norm(inc *breach.Incident) {
	if len(inc.Nature) == 0 {
		inc.Nature = nil
	}
	if len(inc.DataCategories) == 0 {
		inc.DataCategories = nil
	}
	if len(inc.SubjectGroups) == 0 {
		inc.SubjectGroups = nil
	}
	if len(inc.Jurisdictions) == 0 {
		inc.Jurisdictions = nil
	}
	if len(inc.Notifications) == 0 {
		inc.Notifications = nil
	}
}

func appendAll(ctx context.Context, s breach.Store, incs ...breach.Incident) error {
	for _, inc := range incs {
		if err := s.Append(ctx, inc); err != nil {
			return fmt.Errorf("Append(%s v%d): %v", inc.ID, inc.Version, err)
		}
	}
	return nil
}

func checkVersions(ctx context.Context, s breach.Store, id string, want []breach.Incident) error {
	got, err := s.Versions(ctx, id)
	if err != nil {
		return fmt.Errorf("Versions(%s): %v", id, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("Versions(%s) returned %d versions, want %d", id, len(got), len(want))
	}
	for i := range want {
		if err := equal(got[i], want[i]); err != nil {
			return fmt.Errorf("Versions(%s)[%d]: %v", id, i, err)
		}
	}
	return nil
}

func checkList(ctx context.Context, s breach.Store, want []breach.Incident) error {
	got, err := s.List(ctx)
	if err != nil {
		return fmt.Errorf("List: %v", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("List returned %d incidents, want %d", len(got), len(want))
	}
	for i := range want {
		if err := equal(got[i], want[i]); err != nil {
			return fmt.Errorf("List()[%d]: %v", i, err)
		}
	}
	return nil
}

var cases = []testCase{
	{
		Name:   "EmptyStore",
		Clause: "a new store lists no incidents, and Versions of any ID returns an error matching breach.ErrNotFound",
		Run: func(ctx context.Context, s breach.Store) error {
			if err := checkList(ctx, s, nil); err != nil {
				return err
			}
			if _, err := s.Versions(ctx, incidentID(1)); !errors.Is(err, breach.ErrNotFound) {
				return fmt.Errorf("Versions of an unknown ID returned %v, want an error matching breach.ErrNotFound", err)
			}
			return nil
		},
	},
	{
		Name:   "RoundTrip",
		Clause: "Versions returns every field of every version as appended: text exactly, times to the microsecond in UTC, zero times as zero, empty slices as empty",
		Run: func(ctx context.Context, s breach.Store) error {
			incs := []breach.Incident{incident(0, 1), incident(0, 2), incident(1, 1), incident(1, 2)}
			if err := appendAll(ctx, s, incs...); err != nil {
				return err
			}
			if err := checkVersions(ctx, s, incidentID(0), incs[:2]); err != nil {
				return err
			}
			return checkVersions(ctx, s, incidentID(1), incs[2:])
		},
	},
	{
		Name:   "ListLatestInIDOrder",
		Clause: "List returns the latest version of every incident, in order of ID, whatever the order they were appended in",
		Run: func(ctx context.Context, s breach.Store) error {
			if err := appendAll(ctx, s, incident(3, 1), incident(1, 1), incident(3, 2), incident(2, 1), incident(1, 2)); err != nil {
				return err
			}
			return checkList(ctx, s, []breach.Incident{incident(1, 2), incident(2, 1), incident(3, 2)})
		},
	},
	{
		Name:   "VersionConflict",
		Clause: "Append of a version other than one more than the latest (a repeat, a gap, a first version other than 1) returns an error matching breach.ErrConflict and keeps nothing",
		Run: func(ctx context.Context, s breach.Store) error {
			if err := appendAll(ctx, s, incident(1, 1), incident(1, 2)); err != nil {
				return err
			}
			for _, bad := range []breach.Incident{incident(1, 2), incident(1, 1), incident(1, 4), incident(2, 2)} {
				bad.Description = "must not be kept"
				if err := s.Append(ctx, bad); !errors.Is(err, breach.ErrConflict) {
					return fmt.Errorf("Append(%s v%d) returned %v, want an error matching breach.ErrConflict", bad.ID, bad.Version, err)
				}
			}
			if err := checkVersions(ctx, s, incidentID(1), []breach.Incident{incident(1, 1), incident(1, 2)}); err != nil {
				return err
			}
			return checkList(ctx, s, []breach.Incident{incident(1, 2)})
		},
	},
	{
		Name:   "ConcurrentAppend",
		Clause: "of concurrent Appends of the same version, exactly one succeeds and the others return errors matching breach.ErrConflict",
		Run: func(ctx context.Context, s breach.Store) error {
			if err := appendAll(ctx, s, incident(1, 1)); err != nil {
				return err
			}
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					inc := incident(1, 2)
					inc.Note = fmt.Sprint("writer ", i)
					errs[i] = s.Append(ctx, inc)
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, breach.ErrConflict):
					return fmt.Errorf("a concurrent Append returned %v, want nil or an error matching breach.ErrConflict", err)
				}
			}
			if ok != 1 {
				return fmt.Errorf("%d concurrent Appends of version 2 succeeded, want 1", ok)
			}
			vs, err := s.Versions(ctx, incidentID(1))
			if err != nil || len(vs) != 2 {
				return fmt.Errorf("Versions returned %d versions and %v, want 2 and nil", len(vs), err)
			}
			return nil
		},
	},
	{
		Name:   "NoAliasing",
		Clause: "a store keeps copies: changing a slice of an appended or returned incident changes nothing kept",
		Run: func(ctx context.Context, s breach.Store) error {
			inc := incident(0, 1)
			if err := s.Append(ctx, inc); err != nil {
				return fmt.Errorf("Append: %v", err)
			}
			inc.DataCategories[0] = "changed"
			inc.SubjectGroups[0].Approx = -1
			got, err := s.Versions(ctx, inc.ID)
			if err != nil {
				return fmt.Errorf("Versions: %v", err)
			}
			got[0].Nature[0] = "changed"
			got[0].Jurisdictions[0].Subjects = -1
			return checkVersions(ctx, s, inc.ID, []breach.Incident{incident(0, 1)})
		},
	},
	{
		Name:   "CanceledContext",
		Clause: "every method called with a canceled context returns an error matching context.Canceled, and Append keeps nothing",
		Run: func(ctx context.Context, s breach.Store) error {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := s.Append(cctx, incident(1, 1)); !errors.Is(err, context.Canceled) {
				return fmt.Errorf("Append returned %v, want an error matching context.Canceled", err)
			}
			if _, err := s.Versions(cctx, incidentID(1)); !errors.Is(err, context.Canceled) {
				return fmt.Errorf("Versions returned %v, want an error matching context.Canceled", err)
			}
			if _, err := s.List(cctx); !errors.Is(err, context.Canceled) {
				return fmt.Errorf("List returned %v, want an error matching context.Canceled", err)
			}
			return checkList(ctx, s, nil)
		},
	},
}
