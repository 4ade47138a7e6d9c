package rbac

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/nanotime"
	"github.com/dataward/dataward/internal/uuid7"
)

// Options configure an [Authorizer]. Nil means defaults.
type Options struct {
	// Store keeps runtime grants (see [Authorizer.Grant]); nil means a new
	// [MemStore], which this Authorizer alone uses.
	Store Store
	// Audit, if set, records break-glass access (required for it), grants
	// and revocations, and the denials of [Authorizer.Require]. Nil: no
	// audit, and no break-glass.
	Audit *audit.Logger
	// Clock gives the time, for grants bounded in time. Nil means the
	// system clock.
	Clock dataward.Clock
	// MaxBreakGlass bounds the time a break-glass grant may last (default
	// one hour).
	MaxBreakGlass time.Duration
	// PollInterval is how often [Authorizer.Run] reads the grants when the
	// Store is not a [Watcher] (default 250ms).
	PollInterval time.Duration
	// OnError, if set, is told about failures no caller sees: Run losing
	// its watch, an audit event of a denial or a break-glass use that could
	// not be recorded. It must not block.
	OnError func(error)
}

const (
	defaultMaxBreakGlass = time.Hour
	defaultPollInterval  = 250 * time.Millisecond
)

// Authorizer answers whether an actor may perform an action on a type of
// resource, from a compiled policy and the runtime grants of its Store. It
// is safe for concurrent use; checks never wait for a lock, and
// [Authorizer.Reload] and grants replace the compiled form as a whole
// (copy on write), so that a check sees either the old policy or the new
// one, never a mixture.
type Authorizer struct {
	state atomic.Pointer[state]

	store         Store
	audit         *audit.Logger
	clock         dataward.Clock
	maxBreakGlass time.Duration
	pollInterval  time.Duration
	onError       func(error)
	ids           *uuid7.Generator

	mu sync.Mutex // serialises changes of state
}

// state is what checks read: the compiled policy and the runtime grants
// resolved against it.
type state struct {
	snap   *snapshot
	grants []Grant                // as the Store last gave them, with those made since
	extra  map[userKey][]timedSet // grants by user, roles resolved in snap
}

// New returns an Authorizer for policy p, which it validates (see
// [Policy.Validate]) and compiles; p is not retained. It reads no grants
// from the Store: call [Authorizer.Refresh] or start [Authorizer.Run] to
// see those made before, or by other processes.
func New(p *Policy, opts *Options) (*Authorizer, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ve := &dataward.ValidationError{Package: "rbac"}
	if p == nil {
		ve.Add("policy", "is required")
	}
	if o.MaxBreakGlass < 0 {
		ve.Add("Options.MaxBreakGlass", "must not be negative")
	}
	if o.PollInterval < 0 {
		ve.Add("Options.PollInterval", "must not be negative")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	a := &Authorizer{
		store:         o.Store,
		audit:         o.Audit,
		clock:         dataward.ClockOrSystem(o.Clock),
		maxBreakGlass: cmp.Or(o.MaxBreakGlass, defaultMaxBreakGlass),
		pollInterval:  cmp.Or(o.PollInterval, defaultPollInterval),
		onError:       o.OnError,
		ids:           uuid7.NewGenerator(),
	}
	if a.store == nil {
		a.store = NewMemStore()
	}
	a.state.Store(newState(compile(p), nil))
	return a, nil
}

// newState resolves grants against snap. Grants of roles snap does not
// define in the grant's tenant are kept but count for nothing, and so do
// grants not made with BreakGlass of roles snap marks break-glass (the
// role was marked after the grant, or by a newer policy than the one of
// the process that made it): such a role is taken only with BreakGlass.
func newState(snap *snapshot, grants []Grant) *state {
	st := &state{snap: snap, grants: grants, extra: make(map[userKey][]timedSet)}
	for i, g := range grants {
		role := snap.role(g.Tenant, g.Role)
		if role < 0 || snap.roles[role].breakGlass && !g.BreakGlass {
			continue
		}
		k := userKey{g.Tenant, g.User}
		st.extra[k] = append(st.extra[k], timedSet{
			set: role, from: nanotime.Of(g.NotBefore), until: nanotime.Of(g.Expires),
			grant: int32(i), breakGlass: g.BreakGlass,
		})
	}
	return st
}

// Reload replaces the policy with p, which it validates and compiles first:
// if p is invalid, the policy in force stays and the error lists every
// problem. Checks running meanwhile are answered by the old policy, and
// those that start after Reload returns by the new one. Runtime grants
// carry over; those of roles p no longer defines, or marks break-glass
// (unless taken with BreakGlass), count for nothing.
func (a *Authorizer) Reload(p *Policy) error {
	if p == nil {
		return (&dataward.ValidationError{Package: "rbac"}).Add("policy", "is required")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	snap := compile(p)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.Store(newState(snap, a.state.Load().grants))
	return nil
}

// Reason says why a decision was made. Callers may branch on it; it is
// safe to log, and names no part of the policy.
type Reason string

// The reasons of decisions.
const (
	ReasonAllowed       Reason = "allowed"        // a rule allows it, and none denies it
	ReasonBreakGlass    Reason = "break_glass"    // allowed only by a break-glass grant (always audited)
	ReasonDenied        Reason = "denied"         // a deny rule forbids it
	ReasonNoRule        Reason = "no_rule"        // no rule of the actor's roles allows it (deny by default)
	ReasonNoRoles       Reason = "no_roles"       // the actor holds no role now in the tenant
	ReasonNoActor       Reason = "no_actor"       // no actor given, and none in the context
	ReasonUnknownAction Reason = "unknown_action" // the policy does not know the action
	ReasonBadRequest    Reason = "bad_request"    // the resource is empty
)

// Source says how an actor holds the role through which a decision was
// made.
type Source string

// The sources of a role.
const (
	SourceAssignment Source = "assignment"  // an assignment of the policy
	SourceActor      Source = "actor"       // the Roles of the dataward.Actor
	SourceGrant      Source = "grant"       // a runtime grant
	SourceBreakGlass Source = "break_glass" // a break-glass grant
)

// Effect is what a rule does: allow or deny.
type Effect string

// The effects of rules.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Rule is one allow or deny of a role, as the policy states it.
type Rule struct {
	Role   string
	Tenant string // the role's tenant; "" for a role of every tenant
	Effect Effect
	Permission
}

// String returns a description such as "allow read customer (role support-agent)".
func (r Rule) String() string {
	if r.Role == "" {
		return ""
	}
	return string(r.Effect) + " " + r.Permission.String() + " (role " + r.Role + ")"
}

// Decision is an access decision and why it was made.
type Decision struct {
	Allowed  bool
	Reason   Reason
	Actor    string // the actor's ID
	Tenant   string
	Action   string
	Resource string
	// Rule is the rule that decided; zero when none did.
	Rule Rule
	// Path is the chain of roles from the role the actor holds to the role
	// of Rule, through inheritance: [manager support-agent].
	Path []string
	// Source is how the actor holds Path[0].
	Source Source
	// Grant is the ID of the runtime grant of Path[0], if it is one.
	Grant string
	// Expires is when the holding of Path[0] ends, if it does.
	Expires time.Time
}

// verdict is a decision before it is explained: no strings are built.
type verdict struct {
	reason     Reason
	actor      dataward.Actor
	rule       ruleRef
	source     Source
	set        int32     // the set in which rule was found
	timed      *timedSet // the timed holding of set, if it is one
	breakGlass bool
}

// consider takes the rule ri found in set (-1: none) into account: a deny
// decides; the first allow is kept, one through break-glass only until
// another allows. It reports whether the decision is made.
func (v *verdict) consider(s *snapshot, ri ruleRef, set int32, src Source, t *timedSet) bool {
	if ri < 0 {
		return false
	}
	deny := s.rules[ri].deny
	if deny || v.rule < 0 || v.breakGlass && (t == nil || !t.breakGlass) {
		v.rule, v.set, v.source, v.timed = ri, set, src, t
		v.breakGlass = t != nil && t.breakGlass
	}
	return deny
}

// decide makes the decision, allocating nothing.
func (a *Authorizer) decide(ctx context.Context, actor dataward.Actor, action, resource string) (v verdict, st *state) {
	st = a.state.Load()
	v.rule = -1
	if actor.IsZero() {
		actor, _ = dataward.ActorFrom(ctx)
	}
	v.actor = actor
	if actor.ID == "" && len(actor.Roles) == 0 {
		v.reason = ReasonNoActor
		return v, st
	}
	s := st.snap
	act, ok := s.actions[action]
	if !ok {
		v.reason = ReasonUnknownAction
		return v, st
	}
	if resource == "" {
		v.reason = ReasonBadRequest
		return v, st
	}
	res, ok := s.resources[resource]
	if !ok {
		res = -1
	}
	holds := false
	if t := s.tenants[actor.Tenant]; t != nil && actor.ID != "" {
		if set, ok := t.users[actor.ID]; ok {
			holds = true
			if v.consider(s, s.match(set, act, res, resource), set, SourceAssignment, nil) {
				return v, st
			}
		}
	}
	for _, name := range actor.Roles {
		// A break-glass role is held only through BreakGlass.
		if set := s.role(actor.Tenant, name); set >= 0 && !s.roles[set].breakGlass {
			holds = true
			if v.consider(s, s.match(set, act, res, resource), set, SourceActor, nil) {
				return v, st
			}
		}
	}
	if actor.ID != "" && (len(s.timed) > 0 || len(st.extra) > 0) {
		k := userKey{actor.Tenant, actor.ID}
		var now int64
		for _, list := range [2][]timedSet{s.timed[k], st.extra[k]} {
			for i := range list {
				t := &list[i]
				if now == 0 {
					now = a.clock.Now().UnixNano()
				}
				if !t.active(now) {
					continue
				}
				holds = true
				src := SourceAssignment
				if t.grant >= 0 {
					src = SourceGrant
					if t.breakGlass {
						src = SourceBreakGlass
					}
				}
				if v.consider(s, s.match(t.set, act, res, resource), t.set, src, t) {
					return v, st
				}
			}
		}
	}
	switch {
	case v.rule >= 0: // Explain says why
	case holds:
		v.reason = ReasonNoRule
	default:
		v.reason = ReasonNoRoles
	}
	return v, st
}

// Check reports whether actor may perform action on resource (a resource
// type such as "customer", or a data category such as "contact.email").
// A zero actor means the [dataward.Actor] of ctx; the actor's ID and Tenant
// name who it is, and its Roles, if any, count as roles it holds in that
// tenant. Anything not allowed is denied: an unknown action, a missing
// actor, an empty resource. Use [Authorizer.Explain] to learn why.
//
// Check allocates nothing, and its cost hardly depends on the size of the
// policy: it is a few map lookups. An access allowed only through a
// break-glass grant is recorded in the audit log.
func (a *Authorizer) Check(ctx context.Context, actor dataward.Actor, action, resource string) bool {
	v, st := a.decide(ctx, actor, action, resource)
	allowed := v.rule >= 0 && !st.snap.rules[v.rule].deny
	if allowed && v.breakGlass {
		a.auditBreakGlassUse(ctx, v, st, action, resource)
	}
	return allowed
}

// MayReveal reports whether the [dataward.Actor] of ctx may see the
// category of personal data (such as "contact.email") in clear: whether
// it is allowed the action [ActionReveal] on it. It makes an Authorizer a
// pii.Revealer.
func (a *Authorizer) MayReveal(ctx context.Context, category string) bool {
	return a.Check(ctx, dataward.Actor{}, ActionReveal, category)
}

// Explain makes the same decision as [Authorizer.Check] and says why: the
// deciding rule, the chain of roles that led to it, how the actor holds
// the first of them, the tenant and a reason code. Unlike Check, it
// allocates, and it records no audit event.
func (a *Authorizer) Explain(ctx context.Context, actor dataward.Actor, action, resource string) Decision {
	v, st := a.decide(ctx, actor, action, resource)
	d := Decision{
		Reason: v.reason, Actor: v.actor.ID, Tenant: v.actor.Tenant,
		Action: action, Resource: resource,
	}
	if v.rule < 0 {
		return d
	}
	s := st.snap
	r := &s.rules[v.rule]
	role := &s.roles[r.role]
	d.Rule = Rule{Role: role.name, Tenant: role.tenant, Effect: Allow, Permission: Permission{Action: r.action, Resource: r.resource}}
	d.Allowed = !r.deny
	switch {
	case r.deny:
		d.Rule.Effect, d.Reason = Deny, ReasonDenied
	case v.breakGlass:
		d.Reason = ReasonBreakGlass
	default:
		d.Reason = ReasonAllowed
	}
	d.Source = v.source
	d.Path = s.path(s.held(v.set), r.role)
	if v.timed != nil {
		if v.timed.until != 0 {
			d.Expires = time.Unix(0, v.timed.until).UTC()
		}
		if v.timed.grant >= 0 {
			g := &st.grants[v.timed.grant]
			d.Grant, d.Expires = g.ID, g.Expires
		}
	}
	return d
}

// ErrNoAudit is returned by [Authorizer.BreakGlass] when the Authorizer has
// no audit logger: break-glass access must always be audited.
var ErrNoAudit = errors.New("rbac: break-glass access needs an audit logger (Options.Audit)")

// auditBreakGlassUse records a check allowed through break-glass.
func (a *Authorizer) auditBreakGlassUse(ctx context.Context, v verdict, st *state, action, resource string) {
	if a.audit == nil {
		return
	}
	g := st.grants[v.timed.grant]
	err := a.audit.Record(ctx, audit.Event{
		Action:   "rbac.break_glass.use",
		Actor:    audit.ActorOf(v.actor),
		Resource: audit.Resource{Type: resource},
		Reason:   g.Reason,
		Metadata: []audit.Attr{{Key: "action", Value: action}, {Key: "grant", Value: g.ID}, {Key: "role", Value: g.Role}},
	})
	if err != nil && a.onError != nil {
		a.onError(errors.Join(errors.New("rbac: recording a break-glass access"), err))
	}
}

// clone returns a copy of grants with room for one more.
func cloneGrants(grants []Grant) []Grant { return slices.Grow(slices.Clone(grants), 1) }
