package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// PlaceHold places a legal hold and returns it with its ID and Created
// set: from then on no sweep disposes of a record it covers, until it is
// released or its Until passes. It returns a [*dataward.ValidationError]
// if h does not name exactly one subject, record or category, or has no
// reason, and keeps nothing. With Options.Audit, the hold is recorded
// ("retention.hold"), with the subject as a keyed hash.
func (s *Sweeper) PlaceHold(ctx context.Context, h Hold) (Hold, error) {
	ve := &dataward.ValidationError{Package: "retention"}
	h.check(ve)
	if h.ID != "" {
		ve.Add("hold.id", "must be empty: PlaceHold sets it")
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	if !h.Until.IsZero() && !h.Until.After(now) {
		ve.Add("hold.until", "is not in the future")
	}
	if err := ve.Err(); err != nil {
		return Hold{}, err
	}
	h.ID = s.ids.Next(now)
	h.Created = now
	if !h.Until.IsZero() {
		h.Until = h.Until.UTC().Truncate(time.Microsecond)
	}
	if err := s.store.AddHold(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("retention: placing the hold: %w", err)
	}
	if err := s.auditHold(ctx, "retention.hold", h); err != nil {
		return h, fmt.Errorf("retention: hold %s is placed, but its audit event failed: %w", h.ID, err)
	}
	return h, nil
}

// ReleaseHold ends the hold with the ID. It returns an error matching
// [ErrNotFound] if there is none. With Options.Audit, the release is
// recorded ("retention.release").
func (s *Sweeper) ReleaseHold(ctx context.Context, id string) error {
	holds, err := s.store.Holds(ctx)
	if err != nil {
		return fmt.Errorf("retention: reading holds: %w", err)
	}
	var h Hold
	for _, x := range holds {
		if x.ID == id {
			h = x
		}
	}
	if err := s.store.RemoveHold(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: hold %q", ErrNotFound, id)
		}
		return fmt.Errorf("retention: releasing the hold: %w", err)
	}
	if err := s.auditHold(ctx, "retention.release", h); err != nil {
		return fmt.Errorf("retention: hold %s is released, but its audit event failed: %w", id, err)
	}
	return nil
}

// Holds returns the holds in force now, in order of ID.
func (s *Sweeper) Holds(ctx context.Context) ([]Hold, error) {
	holds, err := s.store.Holds(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: reading holds: %w", err)
	}
	now := s.clock.Now()
	out := holds[:0]
	for _, h := range holds {
		if h.active(now) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Sweeper) auditHold(ctx context.Context, action string, h Hold) error {
	if s.opts.Audit == nil {
		return nil
	}
	md := []audit.Attr{{Key: "hold", Value: h.ID}}
	switch {
	case h.Record != "":
		md = append(md, audit.Attr{Key: "dataset", Value: h.Dataset},
			audit.Attr{Key: "record", Value: PseudonymousID(s.opts.HashKey, h.Dataset, h.Record)})
	case h.Category != "":
		md = append(md, audit.Attr{Key: "category", Value: h.Category})
	}
	if !h.Until.IsZero() {
		md = append(md, audit.Attr{Key: "until", Value: h.Until.Format(time.RFC3339)})
	}
	a, ok := dataward.ActorFrom(ctx)
	var actor audit.Actor
	if ok {
		actor = audit.ActorOf(a)
	}
	return s.opts.Audit.Record(ctx, audit.Event{
		Action:   action,
		Actor:    actor,
		Subject:  h.Subject,
		Resource: audit.Resource{Type: "retention.hold", ID: h.ID},
		Reason:   h.Reason,
		Metadata: md,
	})
}

// RecordEvent records that the event name happened to subject at the time
// at, such as "unsubscribe", "account_closed" or "contract_end": policies
// with [SinceEvent] and that event count their period from it. A later
// call for the same name and subject replaces the time. It returns a
// [*dataward.ValidationError] for a bad name, subject or time.
func (s *Sweeper) RecordEvent(ctx context.Context, name string, subject dataward.SubjectID, at time.Time) error {
	if err := checkEvent(name, subject); err != nil {
		return err
	}
	if at.IsZero() {
		return (&dataward.ValidationError{Package: "retention"}).Add("at", "is required")
	}
	if err := s.store.PutEvent(ctx, Event{Name: name, Subject: subject, Time: at.UTC().Truncate(time.Microsecond)}); err != nil {
		return fmt.Errorf("retention: recording the event: %w", err)
	}
	return nil
}

// ClearEvent forgets the event name of subject, such as an "unsubscribe"
// when the person subscribes again, so that its period no longer runs. It
// returns an error matching [ErrNotFound] if there is none.
func (s *Sweeper) ClearEvent(ctx context.Context, name string, subject dataward.SubjectID) error {
	if err := checkEvent(name, subject); err != nil {
		return err
	}
	if err := s.store.DeleteEvent(ctx, name, subject); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: event %q of the subject", ErrNotFound, name)
		}
		return fmt.Errorf("retention: clearing the event: %w", err)
	}
	return nil
}

func checkEvent(name string, subject dataward.SubjectID) error {
	ve := &dataward.ValidationError{Package: "retention"}
	if msg := nameProblem(name); msg != "" {
		ve.Add("name", msg)
	}
	if p := subject.Problem(); p != "" {
		ve.Add("subject", p)
	}
	return ve.Err()
}
