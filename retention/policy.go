package retention

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/docfile"
	"github.com/dataward/dataward/internal/taxonomy"
)

// Schedule is a retention schedule: the policies of every data set the
// host keeps. It is plain data, built in code or loaded with [ParseYAML],
// [ParseJSON] or [LoadFile], and given to [New], which validates it. In
// YAML:
//
//	policies:
//	  - dataset: web_forms
//	    category: user.contact
//	    period: 2 months
//	    since: created
//	    action: delete
//	    reason: "privacy notice s4: web-form submissions are kept 2 months"
//	  - dataset: crm_contacts
//	    category: user.contact
//	    period: 2 years
//	    since: event
//	    event: unsubscribe
//	    action: anonymise
//	    fields:
//	      - {field: email, rule: hash}
//	      - {field: name, rule: mask}
//	      - {field: birth_date, rule: generalise, to: year}
//	    reason: "privacy notice s4: contacts are kept 2 years after unsubscribing"
type Schedule struct {
	Policies []Policy `json:"policies" yaml:"policies"`
}

// Policy says how long one data set is kept and what happens to it then.
type Policy struct {
	// Dataset names the data set, such as "web_forms": a table, a
	// directory, anything a [Target] can list. Each data set has one
	// policy.
	Dataset string `json:"dataset" yaml:"dataset"`
	// Category is the data category of the data set, a fideslang key such
	// as "user.contact" (see /work/shared/data): legal holds on a category
	// hold every data set of that category or below it.
	Category string `json:"category" yaml:"category"`
	// Period is how long the data is kept, such as "2 months" (see
	// [ParsePeriod]).
	Period string `json:"period" yaml:"period"`
	// Since says when the period starts.
	Since Since `json:"since" yaml:"since"`
	// Event names the host-recorded event the period starts from when
	// Since is [SinceEvent], such as "unsubscribe", "account_closed" or
	// "contract_end" (see [Sweeper.RecordEvent]).
	Event string `json:"event,omitempty" yaml:"event,omitempty"`
	// Date is the fixed date the period starts from when Since is
	// [SinceDate].
	Date time.Time `json:"date,omitzero" yaml:"date,omitempty"`
	// Action is what happens to data whose period has ended.
	Action Action `json:"action" yaml:"action"`
	// Fields are the anonymisation rules when Action is [Anonymise], one
	// per field.
	Fields []FieldRule `json:"fields,omitempty" yaml:"fields,omitempty"`
	// Reason is the legal reason for the period, as published, such as
	// "GDPR Art. 5(1)(e); privacy notice s4". It goes into every disposal
	// receipt.
	Reason string `json:"reason" yaml:"reason"`
}

// Since says when a retention period starts.
type Since string

// The triggers of a retention period.
const (
	SinceCreated      Since = "created"       // when the record was created
	SinceLastActivity Since = "last_activity" // the record's last activity
	SinceEvent        Since = "event"         // an event the host records, per subject
	SinceDate         Since = "date"          // a fixed date, the same for every record
)

// Action is what happens to data whose retention period has ended.
type Action string

// The disposal actions.
const (
	// Delete removes the record.
	Delete Action = "delete"
	// Anonymise rewrites the record's personal fields by the policy's
	// [FieldRule]s so that it no longer identifies anyone, and keeps the
	// rest (for statistics).
	Anonymise Action = "anonymise"
	// Shred crypto-shreds the record's subject through the Sweeper's
	// [Shredder] (a pii.Keyring): every copy of the subject's encrypted
	// data, in back-ups too, becomes unreadable. The target marks the
	// records first, and only the subjects of those it marked are shredded
	// (one whose record came alive meanwhile keeps its data); a subject
	// some record of which a hold covers, in any data set, is not
	// shredded. Should the process stop in between, the next sweep of the
	// data set shreds what was left.
	Shred Action = "shred"
)

// Limits on the names in a schedule.
const (
	MaxNameLen   = 255  // data set and event names, in bytes
	MaxReasonLen = 1024 // a policy's reason, in bytes
)

var scheduleDoc = docfile.Doc{Package: "retention", Noun: "schedule"}

// ParseYAML parses and validates a schedule in YAML. Unknown fields are
// refused. Errors name the place of every problem as a path and a line: a
// syntax error, or a [*dataward.ValidationError] listing every problem at
// once.
func ParseYAML(data []byte) (*Schedule, error) {
	var s Schedule
	if err := scheduleDoc.YAML(data, &s, s.Validate); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseJSON parses and validates a schedule in JSON. Unknown fields are
// refused. A syntax error names its line and column; a schedule that
// parses but is invalid gets a [*dataward.ValidationError] listing every
// problem, each with its path ("policies[2].period").
func ParseJSON(data []byte) (*Schedule, error) {
	var s Schedule
	if err := scheduleDoc.JSON(data, &s, s.Validate); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadFile reads and parses a schedule file: JSON if its name ends in
// ".json", YAML otherwise.
func LoadFile(path string) (*Schedule, error) {
	var s Schedule
	if err := scheduleDoc.File(path, &s, s.Validate); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate reports every problem of s at once, in a
// [*dataward.ValidationError] whose fields are paths such as
// "policies[2].period": a data set named twice or badly, a category that
// is not a fideslang key, a missing, zero, negative or absurd period, an
// unknown trigger or action, an event or date missing or given where it
// does not belong, field rules missing or given where they do not belong,
// a missing reason.
func (s *Schedule) Validate() error {
	ve := &dataward.ValidationError{Package: "retention"}
	if len(s.Policies) == 0 {
		ve.Add("policies", "is empty")
	}
	seen := make(map[string]int, len(s.Policies))
	for i, p := range s.Policies {
		at := "policies[" + strconv.Itoa(i) + "]"
		p.check(ve, at)
		if j, ok := seen[p.Dataset]; ok && p.Dataset != "" {
			ve.Add(at+".dataset", fmt.Sprintf("names data set %q of policies[%d] again: each data set has one policy", p.Dataset, j))
		} else {
			seen[p.Dataset] = i
		}
	}
	return ve.Err()
}

// Validate reports every problem of p at once (see [Schedule.Validate]);
// fields are named as in YAML ("period").
func (p *Policy) Validate() error {
	ve := &dataward.ValidationError{Package: "retention"}
	p.check(ve, "")
	return ve.Err()
}

func (p *Policy) check(ve *dataward.ValidationError, at string) {
	field := func(name string) string {
		if at == "" {
			return name
		}
		return at + "." + name
	}
	if msg := nameProblem(p.Dataset); msg != "" {
		ve.Add(field("dataset"), msg)
	}
	if msg := categoryProblem(p.Category); msg != "" {
		ve.Add(field("category"), msg)
	}
	if msg := periodProblem(p.Period); msg != "" {
		ve.Add(field("period"), msg)
	}
	switch p.Since {
	case SinceCreated, SinceLastActivity:
	case SinceEvent:
		if p.Event == "" {
			ve.Add(field("event"), "is required when since is \"event\"")
		}
	case SinceDate:
		if p.Date.IsZero() {
			ve.Add(field("date"), "is required when since is \"date\"")
		}
	case "":
		ve.Add(field("since"), `is required: "created", "last_activity", "event" or "date"`)
	default:
		ve.Add(field("since"), fmt.Sprintf(`%q is not a trigger: use "created", "last_activity", "event" or "date"`, string(p.Since)))
	}
	if p.Event != "" {
		if msg := nameProblem(p.Event); msg != "" {
			ve.Add(field("event"), msg)
		} else if p.Since != SinceEvent {
			ve.Add(field("event"), "is given, but since is not \"event\"")
		}
	}
	if !p.Date.IsZero() && p.Since != SinceDate {
		ve.Add(field("date"), "is given, but since is not \"date\"")
	}
	switch p.Action {
	case Delete, Shred:
		if len(p.Fields) > 0 {
			ve.Add(field("fields"), fmt.Sprintf("are given, but action %q does not use them: only \"anonymise\" does", string(p.Action)))
		}
	case Anonymise:
		if len(p.Fields) == 0 {
			ve.Add(field("fields"), "are required when action is \"anonymise\": a rule for every personal field")
		}
		seen := make(map[string]bool, len(p.Fields))
		for j, r := range p.Fields {
			rat := field("fields[" + strconv.Itoa(j) + "]")
			r.check(ve, rat)
			if seen[r.Field] && r.Field != "" {
				ve.Add(rat+".field", fmt.Sprintf("names field %q twice", r.Field))
			}
			seen[r.Field] = true
		}
	case "":
		ve.Add(field("action"), `is required: "delete", "anonymise" or "shred"`)
	default:
		ve.Add(field("action"), fmt.Sprintf(`%q is not an action: use "delete", "anonymise" or "shred"`, string(p.Action)))
	}
	switch {
	case strings.TrimSpace(p.Reason) == "":
		ve.Add(field("reason"), "is required: the legal reason for the period")
	case len(p.Reason) > MaxReasonLen:
		ve.Add(field("reason"), fmt.Sprintf("is longer than %d bytes", MaxReasonLen))
	case strings.ContainsFunc(p.Reason, func(r rune) bool { return r < ' ' || r == 0x7f }):
		ve.Add(field("reason"), "contains a control character")
	}
}

// period returns p's parsed period; p is valid.
func (p *Policy) period() Period {
	pp, _ := parsePeriod(p.Period)
	return pp
}

// nameProblem says what is wrong with a data set or event name, or "".
func nameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("is longer than %d bytes", MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

// categoryProblem says what is wrong with a data category, or "".
func categoryProblem(c string) string {
	switch {
	case c == "":
		return "is required"
	case !taxonomy.IsCategory(c):
		return fmt.Sprintf("%q is not a fideslang data category key, such as \"user.contact\"", c)
	}
	return ""
}

// categoryCovers reports whether a hold on category hold covers data of
// category c: the same key, or a key below it ("user.contact" covers
// "user.contact.email").
func categoryCovers(hold, c string) bool {
	return hold == c || strings.HasPrefix(c, hold) && c[len(hold)] == '.'
}
