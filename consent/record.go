package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/dataward/dataward"
)

// Kind is what a ledger record says about a person's choice.
type Kind string

// The kinds of record. Given, Renewed, Refused, Withdrawn, Objected and
// Expired decide the state of a purpose; Requested and Signal do not.
const (
	Given     Kind = "given"     // the person agreed
	Renewed   Kind = "renewed"   // the person agreed again to what they had agreed to
	Refused   Kind = "refused"   // the person was asked and said no
	Withdrawn Kind = "withdrawn" // the person took their consent back, or opted out
	Objected  Kind = "objected"  // the person objected to the processing (GDPR Art. 21, POPIA s11(3))
	Expired   Kind = "expired"   // the consent's validity ran out
	// Requested: a double opt-in was asked for and awaits confirmation.
	Requested Kind = "requested"
	// Signal: a signal that was not applied, such as a Global Privacy
	// Control opt-out that met a later explicit choice (see [GPC]). It is
	// kept so that the conflict is on record.
	Signal Kind = "signal"
)

// decisive reports whether a record of kind k decides the state of its
// purpose.
func (k Kind) decisive() bool { return k != Requested && k != Signal }

// Method is how a choice reached the host.
type Method string

// The methods of recording a choice.
const (
	MethodForm        Method = "form"                  // a form control the person used
	MethodAPI         Method = "api"                   // an API call on the person's behalf
	MethodImport      Method = "import"                // imported from an earlier system
	MethodDoubleOptIn Method = "double_opt_in"         // confirmed through a link sent to the person
	MethodGPC         Method = "gpc"                   // a Global Privacy Control signal
	MethodUnsubscribe Method = "one_click_unsubscribe" // a List-Unsubscribe link (RFC 8058)
	MethodSystem      Method = "system"                // recorded by the ledger itself, such as an expiry
)

func (m Method) valid() bool {
	switch m {
	case MethodForm, MethodAPI, MethodImport, MethodDoubleOptIn, MethodGPC, MethodUnsubscribe, MethodSystem:
		return true
	}
	return false
}

// explicit reports whether m carries a choice the person made themselves,
// rather than a signal sent by their browser or a record made by the
// ledger.
func (m Method) explicit() bool { return m != MethodGPC && m != MethodSystem }

// NoticeRef names the notice version a person was shown, with the hash of
// its text.
type NoticeRef struct {
	ID       string `json:"id"`
	Version  int    `json:"version"`
	Language string `json:"language"`
	SHA256   string `json:"sha256"`
}

// IsZero reports whether n names no notice.
func (n NoticeRef) IsZero() bool { return n == NoticeRef{} }

// Evidence is where a choice came from: the client's address and user
// agent. A [Ledger] never stores it in clear: it is encrypted under the
// subject's key when the Ledger has a Sealer, and replaced by a keyed hash
// otherwise. Its String, Format and LogValue methods never print it.
type Evidence struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// IsZero reports whether e holds nothing.
func (e Evidence) IsZero() bool { return e == Evidence{} }

// String returns a placeholder, never the values.
func (e Evidence) String() string {
	if e.IsZero() {
		return "consent.Evidence{}"
	}
	return "consent.Evidence{redacted}"
}

// Format prints e as String does, whatever the verb.
func (e Evidence) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.String())) }

// LogValue logs e as String does.
func (e Evidence) LogValue() slog.Value { return slog.StringValue(e.String()) }

// Record is one entry of the consent ledger: a choice a person made about a
// purpose, or a fact about it (an expiry, a pending double opt-in). Records
// are only ever added; the state of a purpose is derived from them.
type Record struct {
	// Seq is the record's position in its tenant's ledger, from 1, set by
	// the Store.
	Seq int64 `json:"seq"`
	// ID is unique (a UUIDv7); the audit event of the record has the same
	// ID.
	ID      string             `json:"id"`
	Tenant  string             `json:"tenant,omitempty"`
	Subject dataward.SubjectID `json:"subject"`
	Purpose string             `json:"purpose"`
	Kind    Kind               `json:"kind"`
	Method  Method             `json:"method"`
	// Notice is the notice version the person was shown, if any.
	Notice NoticeRef `json:"notice,omitzero"`
	// ActorID and ActorKind name who recorded the choice: the person,
	// a member of staff, a service.
	ActorID   string             `json:"actor_id,omitempty"`
	ActorKind dataward.ActorKind `json:"actor_kind,omitempty"`
	// Evidence is kept in its protected form (see [Evidence]).
	Evidence Evidence `json:"evidence,omitzero"`
	// Jurisdiction is where the person was, as an ISO 3166 code such as
	// "ZA", "DE" or "US-CA", if known.
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Time         time.Time `json:"time"` // when it was recorded (UTC, to the microsecond)
	// Expires is when a Given or Renewed record stops counting, or zero.
	Expires time.Time `json:"expires,omitzero"`
	// Ref, if set, is unique within the tenant: a second record with the
	// same Ref is refused. Tokens use it to be single-use, and hosts as an
	// idempotency key.
	Ref string `json:"ref,omitempty"`
	// Note says more, such as why a signal was not applied. It never holds
	// personal data.
	Note string `json:"note,omitempty"`
}

// DigestPrefix starts every [Record.Digest].
const DigestPrefix = "sha256:"

// Digest returns "sha256:" and the hex SHA-256 of the record's JSON
// encoding (encoding/json, as [Record] is tagged). The audit event of a
// record carries its digest in the metadata entry "digest", so that the
// tamper-evident log vouches for the ledger: anyone holding an exported
// record can recompute it.
func (r Record) Digest() string {
	b, err := json.Marshal(r)
	if err != nil { // unreachable: a Record always encodes
		return ""
	}
	sum := sha256.Sum256(b)
	return DigestPrefix + hex.EncodeToString(sum[:])
}

// Reason says why a [Decision] came out as it did.
type Reason string

// The reasons of a decision.
const (
	ReasonNoRecord       Reason = "no_record"       // opt-in purpose, no choice on record: denied
	ReasonGiven          Reason = "given"           // consent given (or renewed) and current: allowed
	ReasonWithdrawn      Reason = "withdrawn"       // denied
	ReasonRefused        Reason = "refused"         // denied
	ReasonObjected       Reason = "objected"        // denied
	ReasonExpired        Reason = "expired"         // the consent's validity ran out: denied
	ReasonNoticeOutdated Reason = "notice_outdated" // given under a notice since changed materially: denied
	ReasonOptOutDefault  Reason = "opt_out_default" // opt-out purpose and no objection: allowed
	ReasonNoticeOnly     Reason = "notice_only"     // notice-only purpose and no objection: allowed
	ReasonPending        Reason = "pending"         // a double opt-in awaits confirmation: denied
)

// Decision answers "may this person's data be used for this purpose now?",
// with the reason.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Seq is the ledger position of the record that decided, or 0 when no
	// record did (ReasonNoRecord, ReasonOptOutDefault, ReasonNoticeOnly).
	Seq int64
	// Expires is when an allowing consent lapses, or zero.
	Expires time.Time
}
