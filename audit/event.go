package audit

import (
	"strconv"
	"time"

	"github.com/dataward/dataward"
)

// Event is one action on personal data, or on the system that guards it:
// who did what to which resource, about whom, with what outcome. Its fields
// follow what standard audit schemas carry (CADF, OCSF API Activity,
// Kubernetes audit).
//
// Only Action is required. A zero ID, Time or Actor is filled in by
// [Logger.Record]: a fresh id, the Logger's clock, and the [dataward.Actor]
// in the context.
//
// Before an event is stored, every field that could identify a person is
// protected as its [Sensitivity] says (see [Options.Fields]): kept as it is,
// replaced by a keyed hash, or encrypted under the data subject's key.
// Clear personal data never reaches the log.
type Event struct {
	ID      string    // unique id; a UUIDv7 when left empty
	Time    time.Time // when it happened; the Logger's clock when zero
	Class   string    // the delivery class, e.g. "access" (see Options.Policies); "" is the default class
	Action  string    // what was done, e.g. "auth.login", "customer.update", "pii.reveal"
	Actor   Actor     // who did it; the context's dataward.Actor when zero
	Subject dataward.SubjectID

	Resource Resource // what it was done to
	Outcome  Outcome  // success, denied or failure; success when empty
	Reason   string   // why it was denied or failed, or why it was done

	// Changes lists the fields a change touched, with their values before
	// and after, already masked by the host (e.g. "a***@example.com").
	Changes []Change

	RequestID string // the request that caused it, if any
	TraceID   string // the distributed trace it belongs to, if any

	// Metadata holds anything else, each entry with its own sensitivity.
	Metadata []Attr
}

// Actor is who performed an action, as recorded in an [Event]. It mirrors
// [dataward.Actor].
type Actor struct {
	ID        string
	Kind      dataward.ActorKind
	Tenant    string
	Roles     []string
	SourceIP  string
	UserAgent string
}

// ActorOf converts a [dataward.Actor] for an [Event].
func ActorOf(a dataward.Actor) Actor {
	return Actor{ID: a.ID, Kind: a.Kind, Tenant: a.Tenant, Roles: a.Roles, SourceIP: a.SourceIP, UserAgent: a.UserAgent}
}

func (a Actor) isZero() bool {
	return a.ID == "" && a.Kind == "" && a.Tenant == "" && len(a.Roles) == 0 && a.SourceIP == "" && a.UserAgent == ""
}

// Resource is what an action was performed on.
type Resource struct {
	Type string // e.g. "customer", "http.route"
	ID   string // e.g. "cust-42"
}

// Outcome says how an action ended.
type Outcome string

// The outcomes of an action.
const (
	Success Outcome = "success"
	Denied  Outcome = "denied"  // refused by an access decision
	Failure Outcome = "failure" // attempted, and failed
)

// Change is one field touched by a change, with masked values.
type Change struct {
	Field  string // e.g. "email"; required, without control characters
	Before string // masked value before, or "" if it was unset
	After  string // masked value after, or "" if it was removed
}

// Attr is one metadata entry of an [Event].
type Attr struct {
	Key   string // required, without control characters
	Value string
	// Sensitivity says how the value is stored: Public (as is, the
	// default), Sensitive (a keyed hash) or Secret (encrypted under the
	// subject's key).
	Sensitivity Sensitivity
}

// Sensitivity says how a field of an [Event] is kept in the log.
type Sensitivity uint8

const (
	// Public values are stored as they are.
	Public Sensitivity = iota
	// Sensitive values are stored as a keyed hash (HMAC-SHA256 under
	// Options.HashKey): equal values can be matched and queried, but not
	// read.
	Sensitive
	// Secret values are encrypted under the data subject's key through
	// Options.Sealer, so that shredding the subject makes them unreadable
	// while the log stays verifiable. An event without a subject, or a
	// Logger without a Sealer, stores a secret value as Sensitive.
	Secret
)

// String returns "public", "sensitive" or "secret".
func (s Sensitivity) String() string {
	switch s {
	case Public:
		return "public"
	case Sensitive:
		return "sensitive"
	case Secret:
		return "secret"
	}
	return "Sensitivity(" + strconv.Itoa(int(s)) + ")"
}

// Field names a field of an [Event] whose [Sensitivity] the host chooses
// with [Options.Fields].
type Field string

// The fields whose sensitivity can be chosen, and their defaults.
const (
	FieldActorID        Field = "actor.id"         // default Public
	FieldActorIP        Field = "actor.ip"         // default Sensitive
	FieldActorUserAgent Field = "actor.user_agent" // default Public
	FieldSubject        Field = "subject"          // default Sensitive; never Secret
	FieldResourceID     Field = "resource.id"      // default Public
	FieldReason         Field = "reason"           // default Public
	FieldChanges        Field = "changes"          // before and after values; default Secret
)

var defaultFields = map[Field]Sensitivity{
	FieldActorID:        Public,
	FieldActorIP:        Sensitive,
	FieldActorUserAgent: Public,
	FieldSubject:        Sensitive,
	FieldResourceID:     Public,
	FieldReason:         Public,
	FieldChanges:        Secret,
}

// Limits on an [Event], checked by [Logger.Record].
const (
	MaxFieldLen     = 1024      // bytes in any one string field
	MaxChanges      = 256       // entries in Changes
	MaxMetadata     = 64        // entries in Metadata
	MaxMetadataSize = 16 << 10  // bytes of metadata keys and values together
	MaxEventSize    = 256 << 10 // bytes of the stored encoding
)
