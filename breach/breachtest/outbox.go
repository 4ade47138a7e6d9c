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

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/breach"
	"github.com/dataward/dataward/internal/conformance"
)

type outboxCase = conformance.Case[breach.OutboxStore]

// RunOutbox runs the [breach.OutboxStore] cases of the suite against
// stores made by newStore, which must return a new, empty store each
// time it is called:
//
//	breachtest.RunOutbox(t, func(t *testing.T) breach.OutboxStore { return breach.NewMemStore() })
func RunOutbox(t *testing.T, newStore func(t *testing.T) breach.OutboxStore) {
	t.Helper()
	conformance.Run(t, outboxCases, newStore)
}

// delivery returns test delivery n of incident inc, pending and due at
// base, every field set.
func delivery(inc, n int) breach.Delivery {
	return breach.Delivery{
		Message: breach.Message{
			ID:       incidentID(1000*inc + n),
			Incident: incidentID(inc), Regime: "popia", Party: breach.Subjects, Phase: "initial",
			To:      breach.Recipient{Subject: dataward.SubjectID("cust-" + fmt.Sprint(n)), Channel: "email", Address: fmt.Sprintf("user%d@example.com", n)},
			Subject: "Notice «é»", Text: "Line one\nline two", HTML: "<p>Line</p>",
		},
		Key:   fmt.Sprintf("%s|popia|subjects|initial|%032x", incidentID(inc), n),
		State: breach.Pending, NextAt: base, Created: base,
	}
}

func sameDelivery(got, want breach.Delivery) error {
	for _, p := range [][2]*time.Time{{&got.NextAt, &want.NextAt}, {&got.LeaseUntil, &want.LeaseUntil}, {&got.Created, &want.Created}} {
		if !p[0].Equal(*p[1]) || !p[0].IsZero() && p[0].Location() != time.UTC {
			return fmt.Errorf("delivery %s: time %v, want %v (in UTC)", want.ID, *p[0], *p[1])
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %+v\nwant %+v", got, want)
	}
	return nil
}

func enqueue(ctx context.Context, s breach.OutboxStore, ds ...breach.Delivery) error {
	k, err := s.Enqueue(ctx, ds)
	if err != nil || k != len(ds) {
		return fmt.Errorf("Enqueue of %d new deliveries returned %d, %v", len(ds), k, err)
	}
	return nil
}

func ids(ds []breach.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

var outboxCases = []outboxCase{
	{
		Name:   "OutboxRoundTrip",
		Clause: "Deliveries returns every field of the incident's deliveries as enqueued, in order of ID, and none of another incident",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			if err := enqueue(ctx, s, delivery(1, 2), delivery(2, 1), delivery(1, 1)); err != nil {
				return err
			}
			got, err := s.Deliveries(ctx, incidentID(1))
			if err != nil {
				return fmt.Errorf("Deliveries: %v", err)
			}
			if len(got) != 2 {
				return fmt.Errorf("Deliveries returned %d, want 2", len(got))
			}
			for i, want := range []breach.Delivery{delivery(1, 1), delivery(1, 2)} {
				if err := sameDelivery(got[i], want); err != nil {
					return err
				}
			}
			if got, err := s.Deliveries(ctx, incidentID(9)); err != nil || len(got) != 0 {
				return fmt.Errorf("Deliveries of an incident without any returned %d, %v; want none", len(got), err)
			}
			return nil
		},
	},
	{
		Name:   "EnqueueOncePerKey",
		Clause: "Enqueue skips a delivery whose Key is kept, without error, and counts only those it keeps",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			if err := enqueue(ctx, s, delivery(1, 1)); err != nil {
				return err
			}
			again := delivery(1, 1)
			again.ID = incidentID(7777)
			k, err := s.Enqueue(ctx, []breach.Delivery{again, delivery(1, 2)})
			if err != nil || k != 1 {
				return fmt.Errorf("Enqueue of a repeated key and a new one returned %d, %v; want 1, nil", k, err)
			}
			got, err := s.Deliveries(ctx, incidentID(1))
			if err != nil || len(got) != 2 || got[0].ID != delivery(1, 1).ID {
				return fmt.Errorf("Deliveries returned %v, %v; want the first delivery kept and the new one", ids(got), err)
			}
			return nil
		},
	},
	{
		Name:   "ClaimDueInOrder",
		Clause: "Claim returns at most n pending deliveries due at now, oldest ID first, each leased to the owner until now+lease with one more attempt",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			later := delivery(1, 0)
			later.NextAt = base.Add(time.Hour)
			if err := enqueue(ctx, s, delivery(1, 3), later, delivery(1, 1), delivery(1, 2)); err != nil {
				return err
			}
			got, err := s.Claim(ctx, "a", base, time.Minute, 2)
			if err != nil {
				return fmt.Errorf("Claim: %v", err)
			}
			if want := ids([]breach.Delivery{delivery(1, 1), delivery(1, 2)}); !reflect.DeepEqual(ids(got), want) {
				return fmt.Errorf("Claim returned %v, want %v", ids(got), want)
			}
			want := delivery(1, 1)
			want.Attempts, want.LeaseOwner, want.LeaseUntil = 1, "a", base.Add(time.Minute)
			if err := sameDelivery(got[0], want); err != nil {
				return fmt.Errorf("Claim: %v", err)
			}
			got, err = s.Claim(ctx, "b", base, time.Minute, 10)
			if err != nil || !reflect.DeepEqual(ids(got), []string{delivery(1, 3).ID}) {
				return fmt.Errorf("a second Claim returned %v, %v; want only the unleased due delivery", ids(got), err)
			}
			return nil
		},
	},
	{
		Name:   "ClaimExclusive",
		Clause: "concurrent Claims never return the same delivery twice, and together return every due one",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			var ds []breach.Delivery
			for i := range 60 {
				ds = append(ds, delivery(1, i))
			}
			if err := enqueue(ctx, s, ds...); err != nil {
				return err
			}
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for w := range 4 {
				wg.Go(func() {
					for {
						got, err := s.Claim(ctx, fmt.Sprint("w", w), base, time.Minute, 7)
						if err != nil {
							errs <- err
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, d := range got {
							seen[d.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				return fmt.Errorf("Claim: %v", err)
			}
			if len(seen) != 60 {
				return fmt.Errorf("concurrent Claims returned %d deliveries, want 60", len(seen))
			}
			for id, k := range seen {
				if k != 1 {
					return fmt.Errorf("delivery %s was claimed %d times", id, k)
				}
			}
			return nil
		},
	},
	{
		Name:   "LeaseExpires",
		Clause: "a delivery whose lease has ended before now may be claimed again by another owner, with one more attempt; the first owner's Finish then returns an error matching breach.ErrLeaseLost",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			if err := enqueue(ctx, s, delivery(1, 1)); err != nil {
				return err
			}
			if _, err := s.Claim(ctx, "a", base, time.Minute, 1); err != nil {
				return fmt.Errorf("Claim: %v", err)
			}
			if got, err := s.Claim(ctx, "b", base.Add(30*time.Second), time.Minute, 1); err != nil || len(got) != 0 {
				return fmt.Errorf("Claim within the lease returned %v, %v; want none", ids(got), err)
			}
			got, err := s.Claim(ctx, "b", base.Add(2*time.Minute), time.Minute, 1)
			if err != nil || len(got) != 1 || got[0].Attempts != 2 || got[0].LeaseOwner != "b" {
				return fmt.Errorf("Claim after the lease returned %+v, %v; want the delivery at attempt 2 held by b", got, err)
			}
			r := breach.Receipt{Delivery: got[0].ID, Incident: got[0].Incident, Channel: "email", Attempt: 1, At: base.Add(3 * time.Minute), OK: true}
			if err := s.Finish(ctx, got[0].ID, "a", r, breach.Delivered, time.Time{}); !errors.Is(err, breach.ErrLeaseLost) {
				return fmt.Errorf("Finish by the owner who lost the lease returned %v, want an error matching breach.ErrLeaseLost", err)
			}
			if rs, err := s.Receipts(ctx, incidentID(1)); err != nil || len(rs) != 0 {
				return fmt.Errorf("after a refused Finish, Receipts returned %d, %v; want none", len(rs), err)
			}
			return nil
		},
	},
	{
		Name:   "FinishAndReceipts",
		Clause: "Finish keeps the receipt and the state and releases the lease; a delivered or failed delivery is never claimed again; a retry is claimable from its NextAt; Receipts returns every field, in order of time",
		Run: func(ctx context.Context, s breach.OutboxStore) error {
			if err := enqueue(ctx, s, delivery(1, 1), delivery(1, 2), delivery(1, 3)); err != nil {
				return err
			}
			got, err := s.Claim(ctx, "a", base, time.Minute, 3)
			if err != nil || len(got) != 3 {
				return fmt.Errorf("Claim returned %d, %v", len(got), err)
			}
			rs := []breach.Receipt{
				{Delivery: got[0].ID, Incident: got[0].Incident, Subject: got[0].To.Subject, Channel: "email", Attempt: 1, At: base.Add(3 * time.Second), OK: true, Detail: "250 ok «é»"},
				{Delivery: got[1].ID, Incident: got[1].Incident, Subject: got[1].To.Subject, Channel: "email", Attempt: 1, At: base.Add(1 * time.Second), Detail: "550 no such user"},
				{Delivery: got[2].ID, Incident: got[2].Incident, Subject: got[2].To.Subject, Channel: "email", Attempt: 1, At: base.Add(2 * time.Second), Detail: "timeout"},
			}
			retry := base.Add(10 * time.Minute)
			for i, st := range []breach.DeliveryState{breach.Delivered, breach.Failed, breach.Pending} {
				if err := s.Finish(ctx, got[i].ID, "a", rs[i], st, retry); err != nil {
					return fmt.Errorf("Finish(%s): %v", st, err)
				}
			}
			if again, err := s.Claim(ctx, "b", base.Add(5*time.Minute), time.Minute, 10); err != nil || len(again) != 0 {
				return fmt.Errorf("Claim before the retry time returned %v, %v; want none", ids(again), err)
			}
			again, err := s.Claim(ctx, "b", retry, time.Minute, 10)
			if err != nil || !reflect.DeepEqual(ids(again), []string{got[2].ID}) || again[0].Attempts != 2 {
				return fmt.Errorf("Claim at the retry time returned %+v, %v; want only the retried delivery at attempt 2", again, err)
			}
			all, err := s.Deliveries(ctx, incidentID(1))
			if err != nil || len(all) != 3 || all[0].State != breach.Delivered || all[1].State != breach.Failed || all[0].LeaseOwner != "" {
				return fmt.Errorf("Deliveries returned %+v, %v; want delivered, failed, pending, leases released", all, err)
			}
			gotR, err := s.Receipts(ctx, incidentID(1))
			if err != nil {
				return fmt.Errorf("Receipts: %v", err)
			}
			want := []breach.Receipt{rs[1], rs[2], rs[0]}
			if len(gotR) != 3 {
				return fmt.Errorf("Receipts returned %d, want 3", len(gotR))
			}
			for i := range want {
				if !gotR[i].At.Equal(want[i].At) || gotR[i].At.Location() != time.UTC {
					return fmt.Errorf("Receipts()[%d].At = %v, want %v in UTC", i, gotR[i].At, want[i].At)
				}
				gotR[i].At, want[i].At = time.Time{}, time.Time{}
				if !reflect.DeepEqual(gotR[i], want[i]) {
					return fmt.Errorf("Receipts()[%d] = %+v, want %+v", i, gotR[i], want[i])
				}
			}
			return nil
		},
	},
}
