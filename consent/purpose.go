package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/ascii"
	"github.com/dataward/dataward/internal/taxonomy"
)

// LawfulBasis is the ground on which personal data is processed for a
// purpose: one of the six of GDPR Art. 6(1) (POPIA s11(1) has the same
// shape).
type LawfulBasis string

// The six lawful bases of GDPR Art. 6(1)(a) to (f).
const (
	BasisConsent             LawfulBasis = "consent"              // (a) the person agreed
	BasisContract            LawfulBasis = "contract"             // (b) needed for a contract with the person
	BasisLegalObligation     LawfulBasis = "legal_obligation"     // (c) required by law
	BasisVitalInterests      LawfulBasis = "vital_interests"      // (d) to protect someone's life
	BasisPublicTask          LawfulBasis = "public_task"          // (e) a task in the public interest
	BasisLegitimateInterests LawfulBasis = "legitimate_interests" // (f) the controller's legitimate interests
)

func (b LawfulBasis) valid() bool {
	switch b {
	case BasisConsent, BasisContract, BasisLegalObligation, BasisVitalInterests, BasisPublicTask, BasisLegitimateInterests:
		return true
	}
	return false
}

// Mechanism is how a person's choice about a purpose is collected.
type Mechanism string

const (
	// OptIn: nothing may be done until the person says yes. It is the only
	// mechanism for BasisConsent: silence and pre-ticked boxes are not
	// consent (GDPR Recital 32).
	OptIn Mechanism = "opt_in"
	// OptOut: allowed until the person says no (an objection or a
	// withdrawal), such as marketing to existing customers under POPIA
	// s69(3).
	OptOut Mechanism = "opt_out"
	// NoticeOnly: the person is told, not asked; it is allowed unless they
	// object.
	NoticeOnly Mechanism = "notice_only"
)

// Channel is a way of reaching a person, such as "email" or "sms".
type Channel string

// Common channels. Any lowercase word may be used.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	ChannelPhone Channel = "phone"
	ChannelPost  Channel = "post"
	ChannelPush  Channel = "push"
	ChannelWeb   Channel = "web"
)

// Notice is one version of the text shown to people when their choice
// about a purpose is asked for, in one language. Its SHA256 proves what
// exactly they saw; make it with [NewNotice] from the text itself.
type Notice struct {
	ID       string // the notice, e.g. "newsletter-signup"
	Version  int    // increases with every change of the text, from 1
	Language string // a BCP 47 tag, e.g. "en" or "af-ZA"
	SHA256   string // hex SHA-256 of the exact text shown
	// Material marks a change that invalidates consent given under earlier
	// versions: such consent reads as ReasonNoticeOutdated until the person
	// gives it again.
	Material bool
}

// NewNotice returns the notice for text, with its hash.
func NewNotice(id string, version int, language, text string, material bool) Notice {
	sum := sha256.Sum256([]byte(text))
	return Notice{ID: id, Version: version, Language: language, SHA256: hex.EncodeToString(sum[:]), Material: material}
}

// Ref returns the reference a record keeps of n.
func (n Notice) Ref() NoticeRef {
	return NoticeRef{ID: n.ID, Version: n.Version, Language: n.Language, SHA256: n.SHA256}
}

// Purpose is something a host does with personal data, registered with
// [Ledger.Register] before choices about it are recorded.
type Purpose struct {
	// Key names the purpose with a fideslang data use, such as
	// "marketing.communications.email", or an extension of one with
	// lowercase segments, such as "marketing.communications.email.weekly".
	Key         string
	Description string
	Basis       LawfulBasis
	Mechanism   Mechanism
	Channels    []Channel
	// Validity, if positive, is how long consent lasts; after it, the
	// check reads ReasonExpired until the person renews it.
	Validity time.Duration
	// Notices lists every version of every notice shown for this purpose,
	// the retired ones too, so that records made under them stay valid.
	// An OptIn purpose needs at least one.
	Notices []Notice
	// GPC marks a purpose that sells or shares personal data or uses it for
	// targeted advertising: a Global Privacy Control signal opts the person
	// out of it (see [GPC]).
	GPC bool
}

// Limits on the strings a purpose or a record carries.
const (
	maxKeyLen  = 255
	maxTextLen = 1024
)

func (p *Purpose) validate() error {
	ve := &dataward.ValidationError{Package: "consent"}
	checkKey(ve, "Purpose.Key", p.Key)
	if len(p.Description) > maxTextLen {
		ve.Add("Purpose.Description", fmt.Sprintf("must be at most %d bytes", maxTextLen))
	}
	switch {
	case !p.Basis.valid():
		ve.Add("Purpose.Basis", "must be one of consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests")
	case p.Basis == BasisConsent && p.Mechanism != OptIn:
		ve.Add("Purpose.Mechanism", "must be opt_in when the basis is consent (GDPR Recital 32)")
	}
	switch p.Mechanism {
	case OptIn, OptOut, NoticeOnly:
	default:
		ve.Add("Purpose.Mechanism", "must be one of opt_in, opt_out, notice_only")
	}
	for i, c := range p.Channels {
		if !isWord(string(c)) {
			ve.Add(fmt.Sprintf("Purpose.Channels[%d]", i), "must be a lowercase word")
		}
	}
	if p.Validity < 0 {
		ve.Add("Purpose.Validity", "must be at least 0")
	}
	if p.Mechanism == OptIn && len(p.Notices) == 0 {
		ve.Add("Purpose.Notices", "must list the notice shown when asking for an opt-in")
	}
	seen := make(map[NoticeRef]bool, len(p.Notices))
	for i, n := range p.Notices {
		f := fmt.Sprintf("Purpose.Notices[%d]", i)
		checkNotice(ve, f, n.Ref())
		if seen[n.Ref()] {
			ve.Add(f, "is listed twice")
		}
		seen[n.Ref()] = true
	}
	return ve.Err()
}

func checkKey(ve *dataward.ValidationError, field, key string) {
	switch {
	case key == "":
		ve.Add(field, "is required")
	case len(key) > maxKeyLen:
		ve.Add(field, fmt.Sprintf("must be at most %d bytes", maxKeyLen))
	case !isUseKey(key):
		ve.Add(field, "must be a fideslang data use (such as marketing.communications.email) or an extension of one")
	}
}

func checkNotice(ve *dataward.ValidationError, field string, n NoticeRef) {
	if n.ID == "" || len(n.ID) > maxKeyLen || !ascii.Printable(n.ID) {
		ve.Add(field+".ID", "must be 1 to 255 printable ASCII characters")
	}
	if n.Version < 1 || n.Version > math.MaxInt32 {
		ve.Add(field+".Version", "must be from 1 to 2147483647")
	}
	if !isLanguage(n.Language) {
		ve.Add(field+".Language", "must be a BCP 47 language tag such as en or af-ZA")
	}
	if len(n.SHA256) != 64 || !isLowerHex(n.SHA256) {
		ve.Add(field+".SHA256", "must be 64 lowercase hex digits (use NewNotice)")
	}
}

// isUseKey reports whether key is a fideslang data use or extends one with
// segments of lowercase letters, digits and underscores.
func isUseKey(key string) bool {
	if taxonomy.IsUse(key) {
		return true
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] != '.' {
			continue
		}
		if !isWord(key[i+1:]) {
			return false
		}
		if taxonomy.IsUse(key[:i]) {
			return true
		}
	}
	return false
}

// isWord reports whether s is 1 to 64 lowercase letters, digits and
// underscores.
func isWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isLanguage accepts the shape of a BCP 47 tag: alphanumeric subtags of 1
// to 8 characters separated by hyphens, the first 2 or 3 letters.
func isLanguage(s string) bool {
	if len(s) > 35 {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if sub == "" || len(sub) > 8 || i == 0 && (len(sub) < 2 || len(sub) > 3) {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j] | 0x20
			if !('a' <= c && c <= 'z' || i > 0 && '0' <= sub[j] && sub[j] <= '9') {
				return false
			}
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
