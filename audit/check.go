package audit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/ascii"
	"github.com/dataward/dataward/internal/valid"
)

func validStruct(o *Options) error { return valid.Struct("audit", "Options", o) }

// check validates e, naming every bad field at once. It never repeats a
// value, which may be personal data. It allocates nothing for a valid
// event: it runs on every Record.
func check(e *Event) error {
	if usual(e) {
		return nil
	}
	return checkFields(e)
}

// checkFields is check without its fast path.
func checkFields(e *Event) error {
	var ve *dataward.ValidationError
	add := func(field, msg string) {
		if ve == nil {
			ve = &dataward.ValidationError{Package: "audit"}
		}
		ve.Add(field, msg)
	}
	// bad returns what is wrong with a string field, or "".
	bad := func(v string) string {
		switch {
		case len(v) > MaxFieldLen:
			return fmt.Sprintf("is longer than %d bytes", MaxFieldLen)
		case ascii.Printable(v): // the usual case, checked 8 bytes at a time
			return ""
		case !utf8.ValidString(v):
			return "is not valid UTF-8"
		}
		return ""
	}
	str := func(field, v string) {
		if msg := bad(v); msg != "" {
			add(field, msg)
		}
	}
	if e.Action == "" {
		add("action", "is required")
	} else if strings.ContainsFunc(e.Action, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		add("action", "contains a space or control character")
	}
	str("id", e.ID)
	str("class", e.Class)
	str("action", e.Action)
	str("actor.id", e.Actor.ID)
	str("actor.kind", string(e.Actor.Kind))
	str("actor.tenant", e.Actor.Tenant)
	for _, r := range e.Actor.Roles {
		str("actor.roles", r)
	}
	str("actor.ip", e.Actor.SourceIP)
	str("actor.user_agent", e.Actor.UserAgent)
	if e.Subject != "" {
		if p := e.Subject.Problem(); p != "" {
			add("subject", p)
		}
	}
	str("resource.type", e.Resource.Type)
	str("resource.id", e.Resource.ID)
	switch e.Outcome {
	case Success, Denied, Failure:
	default:
		add("outcome", `must be "success", "denied" or "failure"`)
	}
	str("reason", e.Reason)
	if len(e.Changes) > MaxChanges {
		add("changes", fmt.Sprintf("has more than %d entries", MaxChanges))
	}
	for _, c := range e.Changes {
		if c.Field == "" {
			add("changes", "has an entry without a field name")
		} else if hasControl(c.Field) {
			add("changes", "has a field name with a control character")
			continue
		}
		for _, v := range [...]string{c.Field, c.Before, c.After} {
			if msg := bad(v); msg != "" {
				add("changes["+c.Field+"]", msg)
				break
			}
		}
	}
	str("request_id", e.RequestID)
	str("trace_id", e.TraceID)
	if len(e.Metadata) > MaxMetadata {
		add("metadata", fmt.Sprintf("has more than %d entries", MaxMetadata))
	}
	size := 0
	for _, a := range e.Metadata {
		size += len(a.Key) + len(a.Value)
		if a.Key == "" {
			add("metadata", "has an entry without a key")
		} else if hasControl(a.Key) {
			add("metadata", "has a key with a control character")
			continue
		}
		if a.Sensitivity > Secret {
			add("metadata["+a.Key+"]", "has an unknown sensitivity")
		}
		if msg := bad(a.Key); msg != "" {
			add("metadata", "has a key that "+msg)
		} else if msg := bad(a.Value); msg != "" {
			add("metadata["+a.Key+"]", msg)
		}
	}
	if size > MaxMetadataSize {
		add("metadata", fmt.Sprintf("is larger than %d bytes", MaxMetadataSize))
	}
	if ve == nil {
		return nil
	}
	return ve
}

// usual reports whether e passes check for the usual reason: every string
// short and printable ASCII, and every count and enumeration in range. It
// runs on every Record, and costs half what naming the problems does; when
// it reports false, check looks again, field by field, for what is wrong.
// FuzzCheckUsual holds it to agree with check.
func usual(e *Event) bool {
	switch e.Outcome {
	case Success, Denied, Failure:
	default:
		return false
	}
	if e.Action == "" || strings.IndexByte(e.Action, ' ') >= 0 ||
		len(e.Subject) > dataward.MaxSubjectIDLen ||
		len(e.Changes) > MaxChanges || len(e.Metadata) > MaxMetadata {
		return false
	}
	if !(plain(e.ID) && plain(e.Class) && plain(e.Action) && plain(string(e.Subject)) &&
		plain(e.Actor.ID) && plain(string(e.Actor.Kind)) && plain(e.Actor.Tenant) &&
		plain(e.Actor.SourceIP) && plain(e.Actor.UserAgent) &&
		plain(e.Resource.Type) && plain(e.Resource.ID) && plain(e.Reason) &&
		plain(e.RequestID) && plain(e.TraceID)) {
		return false
	}
	for _, r := range e.Actor.Roles {
		if !plain(r) {
			return false
		}
	}
	for _, c := range e.Changes {
		if c.Field == "" || !plain(c.Field) || !plain(c.Before) || !plain(c.After) {
			return false
		}
	}
	size := 0
	for _, a := range e.Metadata {
		size += len(a.Key) + len(a.Value)
		if a.Key == "" || a.Sensitivity > Secret || !plain(a.Key) || !plain(a.Value) {
			return false
		}
	}
	return size <= MaxMetadataSize
}

// hasControl reports whether a name (of a change, of metadata, the
// Logger's Origin) holds a control character (C0, DEL or C1). Names are
// never that, and a NUL would blur a name with the value after it in a
// keyed hash's input (see Logger.hash).
func hasControl(name string) bool { return strings.ContainsFunc(name, unicode.IsControl) }

// plain reports whether s is at most MaxFieldLen bytes of printable ASCII.
func plain(s string) bool { return len(s) <= MaxFieldLen && ascii.Printable(s) }
