// Package dataward is an embeddable toolkit for making a Go application
// compliant with the GDPR and South Africa's POPIA without rewriting it.
//
// Each capability is a package that works alone and composes with the others:
//
//   - [github.com/dataward/dataward/pii]: field-level encryption with a data key
//     per data subject, crypto-shredding, blind indexes and masking.
//   - [github.com/dataward/dataward/audit]: a tamper-evident audit log (a
//     Merkle tree with signed checkpoints and proofs) of actions on personal
//     data.
//   - [github.com/dataward/dataward/consent]: consent records with proof,
//     checks in nanoseconds, withdrawal, double opt-in, one-click
//     unsubscribe and Global Privacy Control.
//   - [github.com/dataward/dataward/breach]: the breach register, regimes
//     and deadlines as data, notices, and delivery with proof.
//   - [github.com/dataward/dataward/sqlstore]: SQL implementations of every
//     package's Store, on SQLite (the embedded default) and PostgreSQL.
//
// This package holds only the vocabulary those packages share: [SubjectID],
// the [Actor] carried in a [context.Context], a [Clock], and
// [ValidationError]. It depends on nothing but the standard library.
//
// # Data subjects
//
// A [SubjectID] names the person personal data is about. It should be an
// opaque identifier the host already has (a customer number, a UUID), never
// personal data itself such as an e-mail address: subject identifiers are
// kept after erasure, in key tombstones and audit records, so they must not
// identify the person on their own.
//
// # Actors
//
// The [Actor] is who is acting: a member of staff, the data subject, a
// service. Middleware puts it in the request context with [WithActor]; the
// packages read it with [ActorFrom] when a call does not name one.
package dataward

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dataward/dataward/internal/ascii"
)

// SubjectID identifies a data subject: the person personal data is about.
// It is an opaque identifier chosen by the host; see the package
// documentation for why it must not itself be personal data.
type SubjectID string

// MaxSubjectIDLen is the longest [SubjectID] the packages accept, in bytes.
const MaxSubjectIDLen = 255

// Validate reports whether id is usable: not empty, at most
// [MaxSubjectIDLen] bytes, and free of control characters (C0, DEL and C1)
// and invalid UTF-8, which is reported as a control character. It returns a
// [*ValidationError] for the field "subject"; the error never repeats the
// identifier.
func (id SubjectID) Validate() error {
	if p := id.Problem(); p != "" {
		return &ValidationError{Problems: []Problem{{Field: "subject", Message: p}}}
	}
	return nil
}

// Problem returns what is wrong with id ("is empty", ...), or "" if it is
// usable. Packages use it to build their own [ValidationError].
func (id SubjectID) Problem() string {
	switch {
	case id == "":
		return "is empty"
	case len(id) > MaxSubjectIDLen:
		return "is longer than 255 bytes"
	case ascii.Printable(string(id)): // the usual case, checked fast
		return ""
	case strings.ContainsFunc(string(id), isControl):
		return "contains a control character"
	}
	return ""
}

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }

// ActorKind says what sort of party an [Actor] is.
type ActorKind string

// The kinds of actor the packages know. Hosts may use others.
const (
	ActorUser    ActorKind = "user"    // a member of staff or an operator
	ActorSubject ActorKind = "subject" // the data subject acting on their own data
	ActorService ActorKind = "service" // a program: a job, a worker, an API client
	ActorSystem  ActorKind = "system"  // dataward itself, e.g. a retention sweeper
)

// Actor is who performs an action on personal data. It is carried in a
// [context.Context] (see [WithActor]) so that audit records and access
// decisions can name it without every call passing it along.
type Actor struct {
	ID        string    // stable identifier of the actor, e.g. a user id
	Kind      ActorKind // what sort of party this is
	Tenant    string    // the tenant the actor acts within, if the host is multi-tenant
	Roles     []string  // roles the host has established for this request
	SourceIP  string    // client address, if known
	UserAgent string    // client user agent, if known
}

// IsZero reports whether a is the zero Actor.
func (a Actor) IsZero() bool {
	return a.ID == "" && a.Kind == "" && a.Tenant == "" && len(a.Roles) == 0 &&
		a.SourceIP == "" && a.UserAgent == ""
}

type actorKey struct{}

// WithActor returns a copy of ctx that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the Actor carried by ctx, and whether there was one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// Clock tells the time. Packages take one in their options so that expiry,
// deadlines and retention can be tested without sleeping; nil means
// [SystemClock].
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to the [Clock] interface.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the [Clock] that reads the system time.
var SystemClock Clock = ClockFunc(time.Now)

// ClockOrSystem returns c, or [SystemClock] if c is nil.
func ClockOrSystem(c Clock) Clock {
	if c == nil {
		return SystemClock
	}
	return c
}
