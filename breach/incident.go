package breach

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/taxonomy"
)

// Errors that callers branch on, matched with [errors.Is].
var (
	// ErrNotFound is returned for an incident that is not kept.
	ErrNotFound = errors.New("breach: incident not found")
	// ErrConflict is returned when a version is appended on top of one
	// that is no longer the latest (another writer got there first).
	ErrConflict = errors.New("breach: version conflict")
	// ErrUnknownRegime is returned for a regime no [Regime] defines.
	ErrUnknownRegime = errors.New("breach: unknown regime")
	// ErrClosed is returned for a change to a closed incident.
	ErrClosed = errors.New("breach: incident is closed")
)

// Nature is one kind of breach. An incident may be of several natures: the
// security triad (confidentiality, integrity, availability; the EDPB's
// classification under GDPR Art. 4(12)) and POPIA s19 and s22's own words
// (loss, damage, unauthorised destruction, unlawful access, unlawful
// processing).
type Nature string

// The natures of a breach.
const (
	Confidentiality    Nature = "confidentiality"     // disclosed to or accessed by someone not entitled to it
	Integrity          Nature = "integrity"           // altered without authority
	Availability       Nature = "availability"        // lost or destroyed, for good or for a time
	Loss               Nature = "loss"                // POPIA s19(1)(a): loss of personal information
	Damage             Nature = "damage"              // POPIA s19(1)(a): damage to personal information
	Destruction        Nature = "destruction"         // POPIA s19(1)(a): unauthorised destruction
	UnlawfulAccess     Nature = "unlawful_access"     // POPIA s19(1)(b), s22(1): accessed or acquired by an unauthorised person
	UnlawfulProcessing Nature = "unlawful_processing" // POPIA s19(1)(b): unlawful processing
)

var natures = []Nature{Confidentiality, Integrity, Availability, Loss, Damage, Destruction, UnlawfulAccess, UnlawfulProcessing}

// Risk is the assessed risk to the rights and freedoms of the data subjects
// (GDPR Art. 33(1) and 34(1)). The empty Risk means "not yet assessed",
// which the regimes treat as [HighRisk] so that no deadline is missed while
// the assessment is pending.
type Risk string

// The levels of risk, in increasing order.
const (
	NoRisk   Risk = "none" // unlikely to result in a risk (GDPR Art. 33(1)): record, do not notify
	SomeRisk Risk = "risk" // a risk: notify the authority
	HighRisk Risk = "high" // a high risk: notify the authority and the subjects
)

// level orders risks; an unassessed risk counts as high.
func (r Risk) level() int {
	switch r {
	case NoRisk:
		return 0
	case SomeRisk:
		return 1
	default:
		return 2
	}
}

// Status is where an incident is in its workflow. It only moves forward, in
// the order of the constants; steps may be skipped (an incident with no
// risk goes from assessed to closed).
type Status string

// The statuses of an incident, in workflow order.
const (
	Detected          Status = "detected"           // recorded; not yet assessed
	Assessed          Status = "assessed"           // the risk is assessed
	AuthorityNotified Status = "authority_notified" // every authority due a notice has had it
	SubjectsNotified  Status = "subjects_notified"  // the data subjects due a notice have had it
	Closed            Status = "closed"             // nothing more to do; no further change is accepted
)

var statuses = []Status{Detected, Assessed, AuthorityNotified, SubjectsNotified, Closed}

func (s Status) order() int { return slices.Index(statuses, s) }

// SubjectGroup is a category of data subjects and their approximate number
// (GDPR Art. 33(3)(a)).
type SubjectGroup struct {
	Category string // e.g. "customers", "employees"
	Approx   int    // approximate number of subjects; 0 if not yet known
}

// Jurisdiction is a regime under which the incident may be notifiable and
// the approximate number of affected subjects it protects (residents of
// California, patients under HIPAA, ...), which thresholds compare with.
type Jurisdiction struct {
	Regime   string // a [Regime] ID, e.g. "gdpr", "popia"
	Subjects int    // approximate number of affected subjects under it
}

// Contact is the contact point from whom more information can be obtained:
// the data protection officer or information officer (GDPR Art. 33(3)(b),
// POPIA s55). It is the organisation's, not a data subject's.
type Contact struct {
	Name  string
	Email string
	Phone string
}

// IsZero reports whether c names no contact.
func (c Contact) IsZero() bool { return c == Contact{} }

// Party is who a notice goes to.
type Party string

// The parties notified of a breach.
const (
	Authority Party = "authority" // the supervisory authority or regulator
	Subjects  Party = "subjects"  // the data subjects affected
)

// Notification records that a notice was given: to whom, under which
// regime, when, and a reference (the authority's case number, an outbox
// id). It is the fact the status workflow and [Obligation.Done] rest on.
type Notification struct {
	Regime    string
	Party     Party
	At        time.Time
	Reference string
}

// Incident is one personal data breach, suspected or confirmed, as
// recorded in the [Register]. Every incident is recorded, notifiable or not
// (GDPR Art. 33(5)). Fields hold facts about the breach and the
// organisation, never personal data of the subjects: categories and counts,
// not names.
type Incident struct {
	ID      string    // assigned by [Register.Record]: a UUIDv7
	Version int       // 1 for the first record, then one more for each update
	Updated time.Time // when this version was recorded
	Status  Status    // where the incident is in its workflow

	AwareAt      time.Time // when the organisation became aware (required): most clocks start here
	OccurredFrom time.Time // the start of the window in which it occurred; zero if unknown
	OccurredTo   time.Time // the end of that window; zero if unknown or ongoing
	FoundBy      string    // who found it: a team, a person in the organisation, a third party
	AssessedAt   time.Time // when the risk was assessed (Singapore's clock starts here)

	Nature           []Nature       // what kind of breach it is (required)
	Description      string         // what happened, in plain words
	DataCategories   []string       // fideslang data category keys, e.g. "user.contact.email" (required)
	SubjectGroups    []SubjectGroup // categories and approximate numbers of subjects
	Records          int            // approximate number of personal data records concerned
	Consequences     string         // the likely consequences
	MeasuresTaken    string         // measures taken to address it and mitigate its effects
	MeasuresProposed string         // measures proposed
	SubjectAdvice    string         // what the subjects can do to protect themselves (POPIA s22(5)(c))
	// UnauthorisedParty is the identity of the unauthorised person, if known
	// (POPIA s22(5)(d)). It names a party, not a subject.
	UnauthorisedParty string
	Contact           Contact        // the DPO or information officer
	Jurisdictions     []Jurisdiction // the regimes involved (required for Obligations to say anything)
	Risk              Risk           // the assessed risk; "" while not assessed
	// DelayReason gives the reasons for a notice given after its deadline
	// (GDPR Art. 33(1)). A late notice is not final without it.
	DelayReason string

	// Notifications lists the notices given, oldest first.
	Notifications []Notification
	// Note says what this version changed, for the history.
	Note string
}

// SubjectCount is the sum of the approximate numbers of subjects of every
// group.
func (inc *Incident) SubjectCount() int {
	n := 0
	for _, g := range inc.SubjectGroups {
		n += g.Approx
	}
	return n
}

// Clone returns a deep copy of inc, so that a store or a caller can keep one
// without sharing slices.
func (inc Incident) Clone() Incident {
	inc.Nature = slices.Clone(inc.Nature)
	inc.DataCategories = slices.Clone(inc.DataCategories)
	inc.SubjectGroups = slices.Clone(inc.SubjectGroups)
	inc.Jurisdictions = slices.Clone(inc.Jurisdictions)
	inc.Notifications = slices.Clone(inc.Notifications)
	return inc
}

// Notified returns when the party was notified under the regime, and
// whether it was.
func (inc *Incident) Notified(regime string, party Party) (time.Time, bool) {
	for _, n := range inc.Notifications {
		if n.Regime == regime && n.Party == party {
			return n.At, true
		}
	}
	return time.Time{}, false
}

// Jurisdiction returns the incident's entry for the regime, and whether it
// has one.
func (inc *Incident) Jurisdiction(regime string) (Jurisdiction, bool) {
	for _, j := range inc.Jurisdictions {
		if j.Regime == regime {
			return j, true
		}
	}
	return Jurisdiction{}, false
}

// Limits on the text of an incident.
const (
	MaxTextLen  = 16 << 10 // the longest free-text field, in bytes
	MaxShortLen = 255      // the longest short field (FoundBy, a category, a contact detail), in bytes
)

// Validate checks inc as [Register.Record] and [Register.Update] do, without
// the ID, version and status bookkeeping those set. It returns a
// [*dataward.ValidationError] (package "breach") listing every bad field, or
// nil. Messages name fields, never their values.
func (inc *Incident) Validate() error {
	ve := &dataward.ValidationError{Package: "breach"}
	inc.validate(ve)
	return ve.Err()
}

func (inc *Incident) validate(ve *dataward.ValidationError) {
	if inc.AwareAt.IsZero() {
		ve.Add("AwareAt", "is required")
	}
	if !inc.OccurredFrom.IsZero() && !inc.OccurredTo.IsZero() && inc.OccurredTo.Before(inc.OccurredFrom) {
		ve.Add("OccurredTo", "is before OccurredFrom")
	}
	if !inc.OccurredFrom.IsZero() && !inc.AwareAt.IsZero() && inc.OccurredFrom.After(inc.AwareAt) {
		ve.Add("OccurredFrom", "is after AwareAt")
	}
	if !inc.AssessedAt.IsZero() && !inc.AwareAt.IsZero() && inc.AssessedAt.Before(inc.AwareAt) {
		ve.Add("AssessedAt", "is before AwareAt")
	}
	if inc.Status != "" && inc.Status.order() < 0 {
		ve.Add("Status", "is not a known status")
	}
	if len(inc.Nature) == 0 {
		ve.Add("Nature", "is required")
	}
	for i, n := range inc.Nature {
		if !slices.Contains(natures, n) {
			ve.Add(fmt.Sprintf("Nature[%d]", i), "is not a known nature")
		}
	}
	if len(inc.DataCategories) == 0 {
		ve.Add("DataCategories", "is required")
	}
	for i, c := range inc.DataCategories {
		if !taxonomy.IsCategory(c) {
			ve.Add(fmt.Sprintf("DataCategories[%d]", i), "is not a fideslang data category key")
		}
	}
	for i, g := range inc.SubjectGroups {
		checkText(ve, fmt.Sprintf("SubjectGroups[%d].Category", i), g.Category, MaxShortLen, true)
		if g.Approx < 0 {
			ve.Add(fmt.Sprintf("SubjectGroups[%d].Approx", i), "is negative")
		}
	}
	if inc.Records < 0 {
		ve.Add("Records", "is negative")
	}
	for i, j := range inc.Jurisdictions {
		if _, ok := regimes[j.Regime]; !ok {
			ve.Add(fmt.Sprintf("Jurisdictions[%d].Regime", i), "is not a known regime")
		}
		if j.Subjects < 0 {
			ve.Add(fmt.Sprintf("Jurisdictions[%d].Subjects", i), "is negative")
		}
		for _, k := range inc.Jurisdictions[:i] {
			if k.Regime == j.Regime {
				ve.Add(fmt.Sprintf("Jurisdictions[%d].Regime", i), "is listed twice")
				break
			}
		}
	}
	switch inc.Risk {
	case "", NoRisk, SomeRisk, HighRisk:
	default:
		ve.Add("Risk", "must be one of none, risk, high or empty")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"FoundBy", inc.FoundBy, MaxShortLen},
		{"Description", inc.Description, MaxTextLen},
		{"Consequences", inc.Consequences, MaxTextLen},
		{"MeasuresTaken", inc.MeasuresTaken, MaxTextLen},
		{"MeasuresProposed", inc.MeasuresProposed, MaxTextLen},
		{"SubjectAdvice", inc.SubjectAdvice, MaxTextLen},
		{"UnauthorisedParty", inc.UnauthorisedParty, MaxTextLen},
		{"DelayReason", inc.DelayReason, MaxTextLen},
		{"Note", inc.Note, MaxTextLen},
		{"Contact.Name", inc.Contact.Name, MaxShortLen},
		{"Contact.Email", inc.Contact.Email, MaxShortLen},
		{"Contact.Phone", inc.Contact.Phone, MaxShortLen},
	} {
		checkText(ve, f.name, f.value, f.max, false)
	}
	if e := inc.Contact.Email; e != "" && !strings.Contains(e, "@") {
		ve.Add("Contact.Email", "is not an e-mail address")
	}
	for i, n := range inc.Notifications {
		if _, ok := regimes[n.Regime]; !ok {
			ve.Add(fmt.Sprintf("Notifications[%d].Regime", i), "is not a known regime")
		}
		if n.Party != Authority && n.Party != Subjects {
			ve.Add(fmt.Sprintf("Notifications[%d].Party", i), "must be authority or subjects")
		}
		if n.At.IsZero() {
			ve.Add(fmt.Sprintf("Notifications[%d].At", i), "is required")
		}
		checkText(ve, fmt.Sprintf("Notifications[%d].Reference", i), n.Reference, MaxShortLen, false)
	}
}

// checkText adds a problem if s is too long, holds a control character
// other than a newline or tab, or (if required) is blank.
func checkText(ve *dataward.ValidationError, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		ve.Add(field, "is required")
	case len(s) > max:
		ve.Add(field, fmt.Sprintf("is longer than %d bytes", max))
	case strings.ContainsFunc(s, func(r rune) bool {
		return r == unicode.ReplacementChar || unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r'
	}):
		ve.Add(field, "contains a control character")
	}
}
