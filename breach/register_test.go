package breach_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/breach"
)

// clock is a settable dataward.Clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var aware = time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC) // a Friday

// sample returns a complete incident affecting subjects in the EU and South
// Africa.
func sample() breach.Incident {
	return breach.Incident{
		AwareAt:          aware,
		OccurredFrom:     aware.Add(-30 * time.Hour),
		OccurredTo:       aware.Add(-2 * time.Hour),
		FoundBy:          "security operations",
		Nature:           []breach.Nature{breach.Confidentiality, breach.UnlawfulAccess},
		Description:      "A misconfigured export job published a customer list.",
		DataCategories:   []string{"user.contact.email", "user.name"},
		SubjectGroups:    []breach.SubjectGroup{{Category: "customers", Approx: 1500}},
		Records:          1500,
		Consequences:     "Targeted phishing.",
		MeasuresTaken:    "The export was removed and the job disabled.",
		MeasuresProposed: "Review of every export job.",
		SubjectAdvice:    "Be wary of e-mails asking for your password.",
		Contact:          breach.Contact{Name: "Data Protection Officer", Email: "dpo@example.com"},
		Jurisdictions:    []breach.Jurisdiction{{Regime: "gdpr", Subjects: 900}, {Regime: "popia", Subjects: 600}},
	}
}

func newRegister(t *testing.T, opts *breach.Options) (*breach.Register, *clock) {
	t.Helper()
	c := &clock{aware.Add(time.Hour)}
	if opts == nil {
		opts = &breach.Options{}
	}
	opts.Clock = c
	r, err := breach.New(breach.NewMemStore(), opts)
	require.NoError(t, err)
	return r, c
}

// problems returns the fields of a validation error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	return fields
}

// TestRecordValidation: a bad incident is refused with every bad field
// named, never its value, and nothing is kept.
func TestRecordValidation(t *testing.T) {
	r, _ := newRegister(t, nil)
	ctx := context.Background()
	bad := breach.Incident{
		OccurredFrom:   aware,
		OccurredTo:     aware.Add(-time.Hour),
		Nature:         []breach.Nature{"leak"},
		DataCategories: []string{"user.secret_sauce"},
		SubjectGroups:  []breach.SubjectGroup{{Category: "", Approx: -1}},
		Records:        -5,
		Jurisdictions:  []breach.Jurisdiction{{Regime: "atlantis"}, {Regime: "gdpr"}, {Regime: "gdpr"}},
		Risk:           "medium",
		Contact:        breach.Contact{Email: "jane.doe"},
		Description:    "bad\x00byte",
	}
	_, err := r.Record(ctx, bad)
	assert.ElementsMatch(t, []string{
		"AwareAt", "OccurredTo", "Nature[0]", "DataCategories[0]", "SubjectGroups[0].Category",
		"SubjectGroups[0].Approx", "Records", "Jurisdictions[0].Regime", "Jurisdictions[2].Regime",
		"Risk", "Contact.Email", "Description",
	}, problems(t, err))
	assert.NotContains(t, err.Error(), "jane.doe")
	assert.NotContains(t, err.Error(), "atlantis")

	_, err = r.Record(ctx, breach.Incident{AwareAt: aware, Nature: []breach.Nature{breach.Loss}})
	assert.Equal(t, []string{"DataCategories"}, problems(t, err))
	_, err = r.Record(ctx, breach.Incident{DataCategories: []string{"user.name"}, Nature: []breach.Nature{breach.Loss}})
	assert.Equal(t, []string{"AwareAt"}, problems(t, err))

	list, err := r.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
}

// TestWorkflowAndVersions: Record keeps version 1 as detected; each Update
// appends a version, the history keeps every phase, the status moves only
// forward, and a closed incident accepts no change.
func TestWorkflowAndVersions(t *testing.T) {
	r, c := newRegister(t, nil)
	ctx := context.Background()
	first := sample()
	first.Records, first.Consequences = 0, "" // not known yet: given in a later phase
	inc, err := r.Record(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, breach.Detected, inc.Status)
	assert.Equal(t, 1, inc.Version)
	assert.NotEmpty(t, inc.ID)

	c.t = c.t.Add(time.Hour)
	inc, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error {
		inc.Status, inc.Risk, inc.AssessedAt = breach.Assessed, breach.HighRisk, c.t
		inc.Note = "assessed"
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, inc.Version)
	assert.Equal(t, c.t, inc.Updated)

	inc, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error {
		inc.Records, inc.Consequences = 1500, "Targeted phishing."
		inc.Note = "phase 2: forensics"
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, breach.Assessed, inc.Status, "an update without a status keeps it")

	_, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error { inc.Status = breach.Detected; return nil })
	assert.Equal(t, []string{"Status"}, problems(t, err))

	wantErr := errors.New("abandoned")
	_, err = r.Update(ctx, inc.ID, func(*breach.Incident) error { return wantErr })
	assert.ErrorIs(t, err, wantErr)

	inc, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error { inc.Status = breach.Closed; return nil })
	require.NoError(t, err)
	_, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error { return nil })
	assert.ErrorIs(t, err, breach.ErrClosed)

	hist, err := r.History(ctx, inc.ID)
	require.NoError(t, err)
	require.Len(t, hist, 4)
	assert.Equal(t, 0, hist[0].Records, "earlier versions are kept as they were")
	assert.Equal(t, 1500, hist[2].Records)
	assert.Equal(t, "phase 2: forensics", hist[2].Note)
	assert.Equal(t, []breach.Status{breach.Detected, breach.Assessed, breach.Assessed, breach.Closed},
		[]breach.Status{hist[0].Status, hist[1].Status, hist[2].Status, hist[3].Status})

	_, err = r.Get(ctx, "no-such-incident")
	assert.ErrorIs(t, err, breach.ErrNotFound)
	_, err = r.Update(ctx, "no-such-incident", func(*breach.Incident) error { return nil })
	assert.ErrorIs(t, err, breach.ErrNotFound)
}

// TestLateGDPRNoticeNeedsReason: a GDPR authority notice recorded after the
// 72 hours is refused until the reasons for the delay are given; one on
// time needs none.
func TestLateGDPRNoticeNeedsReason(t *testing.T) {
	r, _ := newRegister(t, nil)
	ctx := context.Background()
	in := sample()
	in.Risk = breach.SomeRisk
	inc, err := r.Record(ctx, in)
	require.NoError(t, err)

	notify := func(at time.Time) func(*breach.Incident) error {
		return func(inc *breach.Incident) error {
			inc.Notifications = append(inc.Notifications, breach.Notification{Regime: "gdpr", Party: breach.Authority, At: at})
			inc.Status = breach.AuthorityNotified
			return nil
		}
	}
	late := aware.Add(73 * time.Hour)
	_, err = r.Update(ctx, inc.ID, notify(late))
	assert.Equal(t, []string{"DelayReason"}, problems(t, err))
	assert.Contains(t, err.Error(), "GDPR Art. 33(1)")

	_, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error {
		inc.DelayReason = "The scope could not be established before the forensic report."
		return notify(late)(inc)
	})
	require.NoError(t, err)

	inc2, err := r.Record(ctx, in)
	require.NoError(t, err)
	_, err = r.Update(ctx, inc2.ID, notify(aware.Add(71*time.Hour)))
	require.NoError(t, err, "a notice on time needs no reason")
}

// TestAuditEvents: every version is audited with the incident's ID,
// version and status, and none of its free text.
func TestAuditEvents(t *testing.T) {
	store := audit.NewMemStore()
	alog, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	r, _ := newRegister(t, &breach.Options{Audit: alog})
	ctx := context.Background()
	inc, err := r.Record(ctx, sample())
	require.NoError(t, err)
	_, err = r.Update(ctx, inc.ID, func(inc *breach.Incident) error { inc.Status = breach.Assessed; return nil })
	require.NoError(t, err)
	require.NoError(t, alog.Close(ctx))

	entries, err := store.ReadEntries(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "breach.record", entries[0].Action)
	assert.Equal(t, "breach.update", entries[1].Action)
	for _, e := range entries {
		assert.Equal(t, inc.ID, e.ResourceID)
		for _, text := range []string{sample().Description, sample().Contact.Email, sample().SubjectAdvice} {
			assert.False(t, bytes.Contains(e.Data, []byte(text)), "the audit log holds no free text")
		}
	}
}

// TestNewOptions: a nil store and a calendar for an unknown regime are
// refused.
func TestNewOptions(t *testing.T) {
	_, err := breach.New(nil, nil)
	assert.Equal(t, []string{"store"}, problems(t, err))
	_, err = breach.New(breach.NewMemStore(), &breach.Options{Calendars: map[string]*breach.Calendar{"atlantis": breach.MustCalendar(nil)}})
	assert.Equal(t, []string{`Options.Calendars["atlantis"]`}, problems(t, err))
}

// TestNotifyFromOutbox: a phase whose deliveries are all finished becomes
// a notification, with the time of its last delivery; recording it moves
// the status forward, once every party is notified; recording it again
// changes nothing.
func TestNotifyFromOutbox(t *testing.T) {
	ctx := context.Background()
	r, c := newRegister(t, nil)
	inc := sample()
	inc.Jurisdictions = []breach.Jurisdiction{{Regime: "popia", Subjects: 3}}
	inc, err := r.Record(ctx, inc)
	require.NoError(t, err)
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: c.Now()})
	require.NoError(t, err)

	var sent atomic.Int32
	ob, err := breach.NewOutbox(breach.NewMemStore(), map[string]breach.Notifier{
		"email": breach.NotifierFunc(func(_ context.Context, m breach.Message) (string, error) {
			if strings.HasPrefix(m.To.Address, "bad") {
				return "", fmt.Errorf("%w: mailbox unavailable", breach.ErrPermanent)
			}
			sent.Add(1)
			return "250 ok", nil
		}),
	}, &breach.OutboxOptions{Clock: c})
	require.NoError(t, err)
	to := func(yield func(breach.Recipient, error) bool) {
		for _, a := range []string{"a@example.com", "b@example.com", "bad@example.com"} {
			if !yield(breach.Recipient{Subject: dataward.SubjectID(a), Channel: "email", Address: a}, nil) {
				return
			}
		}
	}
	_, err = ob.Enqueue(ctx, n, "initial", to)
	require.NoError(t, err)

	ns, err := ob.Notifications(ctx, inc.ID)
	require.NoError(t, err)
	assert.Empty(t, ns, "nothing is given while deliveries are pending")

	require.NoError(t, ob.Drain(ctx))
	require.Equal(t, int32(2), sent.Load())
	ns, err = ob.Notifications(ctx, inc.ID)
	require.NoError(t, err)
	require.Equal(t, []breach.Notification{{Regime: "popia", Party: breach.Subjects, At: c.Now(),
		Reference: `outbox phase "initial": 2 delivered, 1 failed`}}, ns)

	inc, err = r.Notify(ctx, inc.ID, ns...)
	require.NoError(t, err)
	assert.Equal(t, breach.Detected, inc.Status, "the Regulator is not notified yet")
	assert.Equal(t, 2, inc.Version)

	c.t = c.t.Add(time.Hour)
	inc, err = r.Notify(ctx, inc.ID, append(ns, breach.Notification{Regime: "popia", Party: breach.Authority, At: c.Now(), Reference: "IR-2026-0107"})...)
	require.NoError(t, err)
	assert.Equal(t, breach.SubjectsNotified, inc.Status)
	assert.Len(t, inc.Notifications, 2)
	assert.Equal(t, 3, inc.Version)

	again, err := r.Notify(ctx, inc.ID, ns...)
	require.NoError(t, err)
	assert.Equal(t, 3, again.Version, "nothing new: no version")

	obs, err := r.Obligations(inc)
	require.NoError(t, err)
	for _, o := range obs {
		assert.False(t, o.Done.IsZero(), o.Citation)
	}
}
