package breach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/uuid7"
)

// Store keeps incidents as append-only versions. Implementations keep what
// they are given (deep copies) and leave validation to the [Register]:
// [MemStore] in memory, sqlstore.BreachStore in SQL, and breachtest checks
// any other.
type Store interface {
	// Append keeps inc as a new version of the incident inc.ID. inc.Version
	// must be one more than the latest version kept for that ID (1 for an
	// incident not kept yet); otherwise Append keeps nothing and returns an
	// error matching ErrConflict. Versions are never changed or removed.
	Append(ctx context.Context, inc Incident) error
	// Versions returns every version of the incident, oldest first, or an
	// error matching ErrNotFound if none is kept.
	Versions(ctx context.Context, id string) ([]Incident, error)
	// List returns the latest version of every incident, in order of ID, or
	// none.
	List(ctx context.Context) ([]Incident, error)
}

// Options configure a [Register]. The zero value (or nil) is the default.
type Options struct {
	// Clock tells the time of updates and of the obligations' "now";
	// nil is [dataward.SystemClock].
	Clock dataward.Clock
	// Audit, if set, receives an event for every version recorded
	// (action "breach.record", "breach.update") naming the incident, its
	// version and status, and nothing from its free text.
	Audit *audit.Logger
	// Calendars gives the working-day calendar of a regime that counts
	// working days (LGPD), by regime ID; a regime without one here uses
	// its default (weekends only, in its time zone).
	Calendars map[string]*Calendar
}

// Register is the breach register: it records incidents, validates them,
// keeps every update as a new version and tells what is due to whom by
// when. It is safe for concurrent use.
type Register struct {
	store     Store
	clock     dataward.Clock
	audit     *audit.Logger
	calendars map[string]*Calendar
	ids       *uuid7.Generator
}

// New returns a Register over store.
func New(store Store, opts *Options) (*Register, error) {
	if store == nil {
		return nil, &dataward.ValidationError{Package: "breach", Problems: []dataward.Problem{{Field: "store", Message: "is required"}}}
	}
	if opts == nil {
		opts = &Options{}
	}
	ve := &dataward.ValidationError{Package: "breach"}
	for id, c := range opts.Calendars {
		if _, ok := regimes[id]; !ok {
			ve.Add("Options.Calendars["+strconv.Quote(id)+"]", "is not a known regime")
		} else if c == nil {
			ve.Add("Options.Calendars["+strconv.Quote(id)+"]", "is nil")
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return &Register{store: store, clock: dataward.ClockOrSystem(opts.Clock), audit: opts.Audit, calendars: opts.Calendars, ids: uuid7.NewGenerator()}, nil
}

// Record validates inc and keeps it as version 1 of a new incident with a
// fresh ID, status [Detected] unless inc says otherwise, and returns what
// was kept. If the audit event fails after the incident is kept, Record
// returns the incident and an error saying so. Invalid input returns a [*dataward.ValidationError] listing
// every bad field, and keeps nothing.
func (r *Register) Record(ctx context.Context, inc Incident) (Incident, error) {
	inc = inc.Clone()
	now := r.clock.Now().UTC()
	inc.ID = r.ids.Next(now)
	inc.Version = 1
	inc.Updated = now
	if inc.Status == "" {
		inc.Status = Detected
	}
	if err := inc.Validate(); err != nil {
		return Incident{}, err
	}
	if err := r.store.Append(ctx, inc); err != nil {
		return Incident{}, fmt.Errorf("breach: record incident: %w", err)
	}
	return inc.Clone(), r.record(ctx, "breach.record", inc)
}

// Update applies change to a copy of the latest version of the incident
// and keeps the result as its next version: this is how an incident is
// assessed, completed in phases (GDPR Art. 33(4)), notified and closed.
// change may return an error to abandon the update. Update retries if
// another writer appended a version meanwhile.
//
// The ID, version and time of update are set by Update. The status may
// only move forward ([Status]); a [Closed] incident accepts no change
// (ErrClosed). A Notification added for a regime after its deadline needs
// a DelayReason where the duty asks for one ([Duty.DelayCitation]).
// Returns an error matching ErrNotFound for an unknown ID, and a
// [*dataward.ValidationError] for an invalid result, keeping nothing.
func (r *Register) Update(ctx context.Context, id string, change func(*Incident) error) (Incident, error) {
	for attempt := 0; ; attempt++ {
		prev, err := r.Get(ctx, id)
		if err != nil {
			return Incident{}, err
		}
		if prev.Status == Closed {
			return Incident{}, fmt.Errorf("%w: %s", ErrClosed, id)
		}
		next := prev.Clone()
		next.Note = ""
		if err := change(&next); err != nil {
			return Incident{}, err
		}
		next.ID = prev.ID
		next.Version = prev.Version + 1
		next.Updated = r.clock.Now().UTC()
		ve := &dataward.ValidationError{Package: "breach"}
		next.validate(ve)
		if next.Status.order() < prev.Status.order() {
			ve.Add("Status", "cannot move back from "+string(prev.Status))
		}
		r.checkLate(&next, len(prev.Notifications), ve)
		if err := ve.Err(); err != nil {
			return Incident{}, err
		}
		err = r.store.Append(ctx, next)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return Incident{}, fmt.Errorf("breach: update incident: %w", err)
		}
		return next.Clone(), r.record(ctx, "breach.update", next)
	}
}

// checkLate adds a problem for each notification from index from on that
// was given after its deadline without a DelayReason, under a regime that
// requires one.
func (r *Register) checkLate(inc *Incident, from int, ve *dataward.ValidationError) {
	if inc.DelayReason != "" || from >= len(inc.Notifications) {
		return
	}
	obs, err := r.Obligations(*inc)
	if err != nil {
		return // reported by validate
	}
	for _, n := range inc.Notifications[from:] {
		for _, o := range obs {
			if o.Regime.ID == n.Regime && o.Party == n.Party && o.DelayCitation != "" && !o.Due.IsZero() && n.At.After(o.Due) {
				ve.Add("DelayReason", fmt.Sprintf("is required: the %s notice under %s was given after its deadline (%s)", n.Party, o.Regime.Name, o.DelayCitation))
				return
			}
		}
	}
}

// Get returns the latest version of the incident, or an error matching
// ErrNotFound.
func (r *Register) Get(ctx context.Context, id string) (Incident, error) {
	vs, err := r.History(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	return vs[len(vs)-1], nil
}

// History returns every version of the incident, oldest first: the record
// GDPR Art. 33(5) asks for. Returns an error matching ErrNotFound for an
// unknown ID.
func (r *Register) History(ctx context.Context, id string) ([]Incident, error) {
	vs, err := r.store.Versions(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("breach: read incident: %w", err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return vs, nil
}

// List returns the latest version of every incident, in order of ID
// (which is the order they were recorded in).
func (r *Register) List(ctx context.Context) ([]Incident, error) {
	incs, err := r.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("breach: list incidents: %w", err)
	}
	return incs, nil
}

// Obligations lists what inc makes due to whom by when, with the
// Register's calendars; see the package function [Obligations].
func (r *Register) Obligations(inc Incident) ([]Obligation, error) {
	return obligations(&inc, r.calendars)
}

// Pending returns the obligations of every open incident that are not yet
// done, soonest due first (those due "as soon as possible" first of all):
// what an alerting job watches, with [Obligation.Overdue] and
// [Obligation.DueWithin] against [Register.Now].
func (r *Register) Pending(ctx context.Context) ([]Obligation, error) {
	incs, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Obligation
	for _, inc := range incs {
		if inc.Status == Closed {
			continue
		}
		obs, err := r.Obligations(inc)
		if err != nil {
			return nil, err
		}
		for _, o := range obs {
			if o.Done.IsZero() {
				out = append(out, o)
			}
		}
	}
	sortObligations(out)
	return out, nil
}

// Now returns the Register's clock's time.
func (r *Register) Now() time.Time { return r.clock.Now() }

// record writes an audit event for a version; nothing from its free text.
// A failure is reported with the incident's ID: the version is kept.
func (r *Register) record(ctx context.Context, action string, inc Incident) error {
	if r.audit == nil {
		return nil
	}
	err := r.audit.Record(ctx, audit.Event{
		Action:   action,
		Resource: audit.Resource{Type: "breach.incident", ID: inc.ID},
		Metadata: []audit.Attr{
			{Key: "version", Value: strconv.Itoa(inc.Version)},
			{Key: "status", Value: string(inc.Status)},
			{Key: "risk", Value: string(inc.Risk)},
		},
	})
	if err != nil {
		return fmt.Errorf("breach: incident %s version %d is stored, but its audit event failed: %w", inc.ID, inc.Version, err)
	}
	return nil
}

// Notify records the notifications ns (from [Outbox.Notifications], or
// given by other means, such as an authority's case number) in the
// incident's next version, skipping any it already holds (same regime,
// party and reference), and moves its status forward to match:
// [AuthorityNotified] once every authority the incident's obligations
// name has been notified, [SubjectsNotified] once every party they name
// has been (the subjects, and the authorities if any). A status already further on is kept. If nothing is new, it returns
// the latest version without recording one. Errors are those of
// [Register.Update]; a notification after its deadline needs the
// incident's DelayReason, as there.
func (r *Register) Notify(ctx context.Context, id string, ns ...Notification) (Incident, error) {
	var unchanged bool
	inc, err := r.Update(ctx, id, func(inc *Incident) error {
		added := 0
		for _, n := range ns {
			if !slices.ContainsFunc(inc.Notifications, func(m Notification) bool {
				return m.Regime == n.Regime && m.Party == n.Party && m.Reference == n.Reference
			}) {
				inc.Notifications = append(inc.Notifications, n)
				added++
			}
		}
		if added == 0 {
			unchanged = true
			return errNothingNew
		}
		obs, err := r.Obligations(*inc)
		if err != nil {
			return err
		}
		// done: every obligation to p is notified; has: there is one.
		done := func(p Party) (all, has bool) {
			all = true
			for _, o := range obs {
				if o.Party == p {
					has = true
					if _, ok := inc.Notified(o.Regime.ID, p); !ok {
						all = false
					}
				}
			}
			return all, has
		}
		authDone, hasAuth := done(Authority)
		subjDone, hasSubj := done(Subjects)
		status := inc.Status
		switch {
		case authDone && subjDone && (hasAuth || hasSubj):
			status = SubjectsNotified
		case authDone && hasAuth:
			status = AuthorityNotified
		}
		if status.order() < inc.Status.order() {
			status = inc.Status
		}
		inc.Status = status
		inc.Note = fmt.Sprintf("%d notification(s) recorded", added)
		return nil
	})
	if unchanged {
		return r.Get(ctx, id)
	}
	return inc, err
}

// errNothingNew abandons an update that would change nothing.
var errNothingNew = errors.New("breach: nothing new")
