package breach

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Regime is a breach-notification law, as data: who must be told, by
// when, from which moment, above which thresholds, and with what content,
// each with its citation. A change of law is a change of this data.
//
// The built-in regimes (see [Regimes]) encode the deadline table of the
// project's OBLIGATIONS.md. They are a conservative reading, simplified
// where the law depends on facts a register cannot know (each
// simplification is stated in the duty's Note): they are an aid to
// compliance, not legal advice.
type Regime struct {
	ID       string         // short key used in [Jurisdiction.Regime], e.g. "gdpr"
	Name     string         // e.g. "GDPR"
	Law      string         // the instrument, e.g. "Regulation (EU) 2016/679"
	Location *time.Location // the time zone in which its days end
	// WorkingDays is the default calendar of a regime that counts working
	// days (weekends only); replace it with one that knows the holidays
	// through [Options.Calendars].
	WorkingDays *Calendar
	Duties      []Duty // what it asks, one entry per party (or per threshold)
}

// ClockStart is the moment a deadline counts from.
type ClockStart string

// The moments a deadline counts from.
const (
	FromAwareness  ClockStart = "awareness"  // [Incident.AwareAt]: when the organisation became aware
	FromAssessment ClockStart = "assessment" // [Incident.AssessedAt]: when it assessed the breach notifiable; AwareAt until then
)

// DeadlineKind says how a [Deadline] is counted.
type DeadlineKind string

// The ways deadlines are counted.
const (
	// ASAP has no fixed time ("as soon as reasonably possible", "without
	// undue delay"): the obligation is due at once and is never late by
	// the clock, only by judgment.
	ASAP DeadlineKind = "asap"
	// Hours counts N hours from the clock start, to the instant.
	Hours DeadlineKind = "hours"
	// CalendarDays ends at the end of the N-th calendar day after the
	// day of the clock start, in the regime's time zone.
	CalendarDays DeadlineKind = "calendar_days"
	// WorkingDays ends at the end of the N-th working day after the day
	// of the clock start, in the regime's working-day calendar.
	WorkingDays DeadlineKind = "working_days"
	// AfterYearEnd ends at the end of the N-th day after the end of the
	// calendar year of the clock start (HIPAA's annual log to HHS).
	AfterYearEnd DeadlineKind = "after_year_end"
)

// Deadline is when a duty falls due, counted from its [ClockStart].
type Deadline struct {
	Kind  DeadlineKind
	N     int    // hours or days; unused for ASAP
	Words string // the law's words, e.g. "without undue delay and, where feasible, not later than 72 hours"
}

// Field names a part of an [Incident] that a notice must contain.
type Field string

// The content a regime may require of a notice.
const (
	FieldNature            Field = "Nature"            // the nature of the breach
	FieldDescription       Field = "Description"       // what happened, in plain words
	FieldOccurred          Field = "OccurredFrom"      // when it occurred (a date or window)
	FieldDataCategories    Field = "DataCategories"    // the categories of personal data
	FieldSubjectGroups     Field = "SubjectGroups"     // the categories and approximate numbers of subjects
	FieldRecords           Field = "Records"           // the approximate number of records
	FieldContact           Field = "Contact"           // the DPO or other contact point
	FieldConsequences      Field = "Consequences"      // the likely consequences
	FieldMeasures          Field = "MeasuresTaken"     // the measures taken or proposed
	FieldSubjectAdvice     Field = "SubjectAdvice"     // what subjects can do
	FieldDelayReason       Field = "DelayReason"       // the reasons for a late notice
	FieldUnauthorisedParty Field = "UnauthorisedParty" // who obtained the data, if known
)

// Requirement is one piece of content a notice must contain, with the
// provision that asks for it and, where the law prescribes one, the
// heading under which it must appear.
type Requirement struct {
	Field    Field
	Citation string // e.g. "GDPR Art. 33(3)(b)"
	Heading  string // a heading the law prescribes, e.g. "What Happened"; "" if none
}

// Duty is one notice a regime asks for: to whom, by when, above which
// thresholds, with what content.
type Duty struct {
	Party     Party
	Recipient string // who exactly, e.g. "the Information Regulator"
	Citation  string // the provision that imposes it, e.g. "GDPR Art. 33(1)"
	Clock     ClockStart
	Deadline  Deadline
	// MinRisk is the least assessed risk that makes the duty apply; an
	// unassessed risk counts as high. "" applies whatever the risk.
	MinRisk Risk
	// MinSubjects, if above zero, is the least number of affected subjects
	// under the regime ([Jurisdiction.Subjects]) for the duty to apply;
	// MaxSubjects, if above zero, the most.
	MinSubjects, MaxSubjects int
	// OrMinSubjects, if above zero, makes the duty apply whatever the risk
	// once this many subjects are affected (Singapore's 500).
	OrMinSubjects int
	Required      []Requirement // the content the notice must hold
	// DelayCitation, if set, is the provision that asks a notice given after
	// the deadline to give the reasons for the delay (GDPR Art. 33(1)).
	DelayCitation string
	// Note states what the data simplifies or assumes.
	Note string
}

// Obligation is a duty that an incident makes due: to whom, by when (Due,
// zero for "as soon as possible"), counted from Start, and when it was
// done (zero if not yet).
type Obligation struct {
	Incident string  // the incident's ID
	Regime   *Regime // the regime; shared, do not modify
	Duty             // what is due
	Start    time.Time
	Due      time.Time // zero when the deadline is ASAP
	Done     time.Time // when the notice was given; zero if not yet
}

// Overdue reports whether o is not done and its deadline has passed at
// now. An ASAP obligation is never overdue by the clock.
func (o Obligation) Overdue(now time.Time) bool {
	return o.Done.IsZero() && !o.Due.IsZero() && now.After(o.Due)
}

// DueWithin reports whether o is not done and falls due within d of now
// (or is overdue). An ASAP obligation not done is always due.
func (o Obligation) DueWithin(now time.Time, d time.Duration) bool {
	if !o.Done.IsZero() {
		return false
	}
	return o.Due.IsZero() || !now.Add(d).Before(o.Due)
}

// Late reports whether o was done after its deadline.
func (o Obligation) Late() bool {
	return !o.Done.IsZero() && !o.Due.IsZero() && o.Done.After(o.Due)
}

// String describes o in one line, e.g.
// "GDPR authority (the competent supervisory authority) due 2026-03-04T12:00:00Z, GDPR Art. 33(1)".
func (o Obligation) String() string {
	due := "as soon as possible"
	if !o.Due.IsZero() {
		due = "due " + o.Due.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s %s (%s) %s, %s", o.Regime.Name, o.Party, o.Recipient, due, o.Citation)
}

// Overdue returns the obligations of obs that are overdue at now.
func Overdue(obs []Obligation, now time.Time) []Obligation {
	return filter(obs, func(o Obligation) bool { return o.Overdue(now) })
}

// DueSoon returns the obligations of obs not done that fall due within d of
// now, overdue ones and ASAP ones included: what should raise an alert.
func DueSoon(obs []Obligation, now time.Time, d time.Duration) []Obligation {
	return filter(obs, func(o Obligation) bool { return o.DueWithin(now, d) })
}

func filter(obs []Obligation, keep func(Obligation) bool) []Obligation {
	var out []Obligation
	for _, o := range obs {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// Obligations lists what inc makes due to whom by when under each of its
// jurisdictions, with the built-in regimes and their default calendars
// (use [Register.Obligations] for calendars with holidays). Duties whose
// thresholds inc does not meet are left out; those already done carry the
// time in Done. The list is ordered by deadline, ASAP ones first. An
// unknown regime returns an error matching [ErrUnknownRegime] naming it.
func Obligations(inc Incident) ([]Obligation, error) {
	return obligations(&inc, nil)
}

func obligations(inc *Incident, calendars map[string]*Calendar) ([]Obligation, error) {
	var out []Obligation
	for _, j := range inc.Jurisdictions {
		reg, ok := regimes[j.Regime]
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownRegime, j.Regime)
		}
		cal := reg.WorkingDays
		if c := calendars[reg.ID]; c != nil {
			cal = c
		}
		for _, d := range reg.Duties {
			if !d.applies(inc, j.Subjects) {
				continue
			}
			start := inc.AwareAt
			if d.Clock == FromAssessment && !inc.AssessedAt.IsZero() {
				start = inc.AssessedAt
			}
			o := Obligation{Incident: inc.ID, Regime: reg, Duty: d, Start: start, Due: d.Deadline.due(start, reg.Location, cal)}
			o.Done, _ = inc.Notified(reg.ID, d.Party)
			out = append(out, o)
		}
	}
	sortObligations(out)
	return out, nil
}

func sortObligations(obs []Obligation) {
	slices.SortStableFunc(obs, func(a, b Obligation) int {
		if a.Due.IsZero() != b.Due.IsZero() {
			if a.Due.IsZero() {
				return -1
			}
			return 1
		}
		return a.Due.Compare(b.Due)
	})
}

// applies reports whether the duty's thresholds are met.
func (d *Duty) applies(inc *Incident, subjects int) bool {
	if d.MinSubjects > 0 && subjects < d.MinSubjects || d.MaxSubjects > 0 && subjects > d.MaxSubjects {
		return false
	}
	if d.OrMinSubjects > 0 && subjects >= d.OrMinSubjects {
		return true
	}
	return d.MinRisk == "" || inc.Risk.level() >= d.MinRisk.level()
}

// due returns the deadline counted from start, or zero for ASAP.
func (dl Deadline) due(start time.Time, loc *time.Location, cal *Calendar) time.Time {
	switch dl.Kind {
	case Hours:
		return start.Add(time.Duration(dl.N) * time.Hour)
	case CalendarDays:
		return endOfDay(startOfDay(start.In(loc)).AddDate(0, 0, dl.N))
	case WorkingDays:
		return cal.AddWorkingDays(start, dl.N)
	case AfterYearEnd:
		t := start.In(loc)
		return endOfDay(time.Date(t.Year(), 12, 31, 0, 0, 0, 0, loc).AddDate(0, 0, dl.N))
	}
	return time.Time{}
}

// Regimes returns the built-in regimes, in order of ID. The values are
// shared: do not modify them.
func Regimes() []*Regime {
	out := make([]*Regime, 0, len(regimes))
	for _, r := range regimes {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Regime) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// LookupRegime returns the built-in regime with the ID, or an error
// matching [ErrUnknownRegime].
func LookupRegime(id string) (*Regime, error) {
	if r, ok := regimes[id]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownRegime, id)
}

// Missing returns the requirements of the duty that inc does not meet,
// given that the notice is given at at: each required field that is empty
// and, for a notice after the deadline under a duty with a DelayCitation, the
// reasons for the delay. Nil means the notice may be finalised.
func (o Obligation) Missing(inc *Incident, at time.Time) []Requirement {
	var out []Requirement
	for _, r := range o.Required {
		if !present(inc, r.Field) {
			out = append(out, r)
		}
	}
	if o.DelayCitation != "" && !o.Due.IsZero() && at.After(o.Due) && inc.DelayReason == "" {
		out = append(out, Requirement{Field: FieldDelayReason, Citation: o.DelayCitation})
	}
	return out
}

// present reports whether inc has the field.
func present(inc *Incident, f Field) bool {
	switch f {
	case FieldNature:
		return len(inc.Nature) > 0
	case FieldDescription:
		return inc.Description != ""
	case FieldOccurred:
		return !inc.OccurredFrom.IsZero()
	case FieldDataCategories:
		return len(inc.DataCategories) > 0
	case FieldSubjectGroups:
		return len(inc.SubjectGroups) > 0 && inc.SubjectCount() > 0
	case FieldRecords:
		return inc.Records > 0
	case FieldContact:
		return inc.Contact.Email != "" || inc.Contact.Phone != ""
	case FieldConsequences:
		return inc.Consequences != ""
	case FieldMeasures:
		return inc.MeasuresTaken != "" || inc.MeasuresProposed != ""
	case FieldSubjectAdvice:
		return inc.SubjectAdvice != ""
	case FieldDelayReason:
		return inc.DelayReason != ""
	}
	return false
}
