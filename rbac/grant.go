package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/follow"
)

// Grant gives a user a role of the policy within a tenant at run time,
// for a time or until revoked. Grants are kept in a [Store], so that every
// process sharing it follows them (see [Authorizer.Run]).
type Grant struct {
	ID     string // unique; a UUIDv7 given by Authorizer.Grant
	Tenant string // "" is the default tenant
	User   string
	Role   string
	// NotBefore and Expires bound the time the grant holds; zero means
	// unbounded.
	NotBefore, Expires time.Time
	// BreakGlass marks emergency access taken with Authorizer.BreakGlass.
	BreakGlass bool
	// Reason is why the grant was made; required for break-glass.
	Reason    string
	GrantedBy string    // the ID of the actor who made the grant
	Created   time.Time // when it was made
}

// Errors callers and Store implementations branch on.
var (
	// ErrNotFound: no grant has the ID. Stores return an error matching
	// it.
	ErrNotFound = errors.New("rbac: grant not found")
	// ErrDuplicate: a grant with the same ID exists. Stores return an
	// error matching it.
	ErrDuplicate = errors.New("rbac: a grant with this ID already exists")
)

// Store keeps runtime grants. The [Authorizer] validates grants and
// compiles them with the policy; a Store keeps what it is given.
//
// Implementations: [NewMemStore], the SQL store of package sqlstore, or the
// host's own, checked with rbactest.Run. Several Authorizers, in one
// process or many, may share a Store.
type Store interface {
	// Add keeps g. If a grant with g.ID is kept already, it keeps nothing
	// and returns an error matching ErrDuplicate.
	Add(ctx context.Context, g Grant) error
	// Remove deletes the grant with the ID, or returns an error matching
	// ErrNotFound.
	Remove(ctx context.Context, id string) error
	// List returns every grant kept, in order of ID, or none.
	List(ctx context.Context) ([]Grant, error)
}

// Watcher is a Store that tells its readers when grants are added or
// removed, by this process or another, so that Authorizers follow without
// polling (on PostgreSQL, with LISTEN/NOTIFY). [Authorizer.Run] uses it
// when the Store has it.
type Watcher interface {
	// Watch sends on changed, without blocking, once when it is ready (so
	// that the caller can read what it may have missed) and then after
	// grants are added or removed, until ctx is done; several changes may
	// be told by one send. It returns ctx's error when ctx is done, or
	// another error if it could not watch.
	Watch(ctx context.Context, changed chan<- struct{}) error
}

// Limits on a grant.
const (
	MaxReasonLen = 1024 // bytes of Grant.Reason
	minReasonLen = 10   // a break-glass reason says something
)

// Grant gives g.User the role g.Role in g.Tenant, from g.NotBefore (or now)
// until g.Expires (or until revoked), and returns the grant as stored,
// with its ID, Created and GrantedBy (the [dataward.Actor] of ctx) filled
// in. The role must be defined in the tenant and must not be a break-glass
// role. The grant is visible to this Authorizer's checks at once, and to
// those of other Authorizers sharing the Store when they next read it
// (see [Authorizer.Run]). It is audited if Options.Audit is set.
//
// Invalid grants get a [*dataward.ValidationError] and nothing is stored.
func (a *Authorizer) Grant(ctx context.Context, g Grant) (Grant, error) {
	g.BreakGlass = false
	return a.add(ctx, g, "rbac.grant", a.clock.Now())
}

// BreakGlass gives the [dataward.Actor] of ctx the break-glass role role
// (one with BreakGlass set in the policy) in the actor's tenant, now and
// for ttl (at most Options.MaxBreakGlass), stating why. It requires an
// audit logger ([ErrNoAudit] otherwise): the grant is recorded in the audit
// log, and so is every check it alone allows. If the audit event cannot be
// recorded, the grant is removed again and the error returned.
func (a *Authorizer) BreakGlass(ctx context.Context, role, reason string, ttl time.Duration) (Grant, error) {
	if a.audit == nil {
		return Grant{}, ErrNoAudit
	}
	actor, _ := dataward.ActorFrom(ctx)
	ve := &dataward.ValidationError{Package: "rbac"}
	if actor.ID == "" {
		ve.Add("actor", "is required: put the dataward.Actor asking for access in the context")
	}
	if len(strings.TrimSpace(reason)) < minReasonLen {
		ve.Add("reason", fmt.Sprintf("must state why, in at least %d characters", minReasonLen))
	}
	if ttl <= 0 || ttl > a.maxBreakGlass {
		ve.Add("ttl", fmt.Sprintf("must be more than 0 and at most %s (Options.MaxBreakGlass)", a.maxBreakGlass))
	}
	if err := ve.Err(); err != nil {
		return Grant{}, err
	}
	now := a.clock.Now().UTC().Truncate(time.Microsecond)
	return a.add(ctx, Grant{
		Tenant: actor.Tenant, User: actor.ID, Role: role,
		NotBefore: now, Expires: now.Add(ttl), BreakGlass: true, Reason: reason,
	}, "rbac.break_glass", now)
}

// add validates, stores, applies and audits a grant.
func (a *Authorizer) add(ctx context.Context, g Grant, event string, now time.Time) (Grant, error) {
	now = now.UTC().Truncate(time.Microsecond)
	g.ID = a.ids.Next(now)
	g.Created = now
	g.GrantedBy = ""
	if actor, ok := dataward.ActorFrom(ctx); ok {
		g.GrantedBy = actor.ID
	}
	g.NotBefore = truncate(g.NotBefore)
	g.Expires = truncate(g.Expires)

	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state.Load()
	if err := validateGrant(st.snap, &g, now); err != nil {
		return Grant{}, err
	}
	if err := a.store.Add(ctx, g); err != nil {
		return Grant{}, fmt.Errorf("rbac: storing the grant: %w", err)
	}
	grants := append(cloneGrants(st.grants), g)
	a.state.Store(newState(st.snap, grants))
	if a.audit != nil {
		err := a.audit.Record(ctx, grantEvent(event, g))
		if err != nil && g.BreakGlass {
			// Break-glass access is never unaudited: take it back.
			if rerr := a.store.Remove(context.WithoutCancel(ctx), g.ID); rerr != nil {
				return Grant{}, fmt.Errorf("rbac: break-glass grant %s could not be audited (%w), and removing it failed: %w", g.ID, err, rerr)
			}
			a.state.Store(newState(st.snap, st.grants))
			return Grant{}, fmt.Errorf("rbac: break-glass refused: its audit event failed: %w", err)
		}
		if err != nil {
			return g, fmt.Errorf("rbac: grant %s is stored, but its audit event failed: %w", g.ID, err)
		}
	}
	return g, nil
}

func truncate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// validateGrant checks g against the policy of snap.
func validateGrant(snap *snapshot, g *Grant, now time.Time) error {
	ve := &dataward.ValidationError{Package: "rbac"}
	checkName(ve, "Grant.User", g.User)
	if g.Tenant != "" {
		checkName(ve, "Grant.Tenant", g.Tenant)
	}
	checkName(ve, "Grant.Role", g.Role)
	if len(ve.Problems) == 0 {
		switch role := snap.role(g.Tenant, g.Role); {
		case role < 0:
			ve.Add("Grant.Role", fmt.Sprintf("names role %q, which the policy does not define in tenant %q", g.Role, g.Tenant))
		case snap.roles[role].breakGlass && !g.BreakGlass:
			ve.Add("Grant.Role", fmt.Sprintf("names break-glass role %q: it can only be taken with BreakGlass", g.Role))
		case !snap.roles[role].breakGlass && g.BreakGlass:
			ve.Add("role", fmt.Sprintf("names role %q, which is not a break-glass role", g.Role))
		}
	}
	if !g.Expires.IsZero() && !g.Expires.After(now) {
		ve.Add("Grant.Expires", "is not in the future")
	}
	if !g.Expires.IsZero() && !g.NotBefore.IsZero() && !g.Expires.After(g.NotBefore) {
		ve.Add("Grant.Expires", "is not after NotBefore")
	}
	if len(g.Reason) > MaxReasonLen || !utf8.ValidString(g.Reason) || strings.ContainsRune(g.Reason, 0) {
		ve.Add("Grant.Reason", fmt.Sprintf("must be valid UTF-8 of at most %d bytes, without NUL", MaxReasonLen))
	}
	return ve.Err()
}

// grantEvent is the audit event of a grant or revocation.
func grantEvent(action string, g Grant) audit.Event {
	e := audit.Event{
		Action:   action,
		Resource: audit.Resource{Type: "rbac.grant", ID: g.ID},
		Reason:   g.Reason,
		Metadata: []audit.Attr{
			{Key: "user", Value: g.User, Sensitivity: audit.Sensitive},
			{Key: "tenant", Value: g.Tenant},
			{Key: "role", Value: g.Role},
		},
	}
	if !g.Expires.IsZero() {
		e.Metadata = append(e.Metadata, audit.Attr{Key: "expires", Value: g.Expires.Format(time.RFC3339)})
	}
	return e
}

// Revoke removes the grant with the ID: it stops holding at once in this
// Authorizer, and in others when they next read the Store. It returns an
// error matching [ErrNotFound] if the Store has no such grant. It is
// audited if Options.Audit is set.
func (a *Authorizer) Revoke(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.store.Remove(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return fmt.Errorf("rbac: removing the grant: %w", err)
	}
	st := a.state.Load()
	g := Grant{ID: id}
	grants := slices.DeleteFunc(slices.Clone(st.grants), func(x Grant) bool {
		if x.ID == id {
			g = x
			return true
		}
		return false
	})
	a.state.Store(newState(st.snap, grants))
	if a.audit != nil {
		if err := a.audit.Record(ctx, grantEvent("rbac.revoke", g)); err != nil {
			return fmt.Errorf("rbac: grant %s is revoked, but its audit event failed: %w", id, err)
		}
	}
	return nil
}

// Grants returns the runtime grants the Authorizer knows, expired ones
// included, in order of ID.
func (a *Authorizer) Grants() []Grant {
	grants := slices.Clone(a.state.Load().grants)
	slices.SortFunc(grants, func(x, y Grant) int { return strings.Compare(x.ID, y.ID) })
	return grants
}

// Refresh reads every grant from the Store, so that those made by other
// processes count.
func (a *Authorizer) Refresh(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	grants, err := a.store.List(ctx)
	if err != nil {
		return fmt.Errorf("rbac: reading the grants: %w", err)
	}
	a.state.Store(newState(a.state.Load().snap, grants))
	return nil
}

// Run follows the Store, so that grants made and revoked by other
// processes count in this Authorizer's checks within a second. It blocks
// until ctx is done and then returns ctx's error; the caller owns the
// goroutine:
//
//	go authz.Run(ctx)
//
// With a Store that is a [Watcher] (such as sqlstore's, which uses
// PostgreSQL's LISTEN/NOTIFY), Run reads the grants when told of a change;
// with another, every Options.PollInterval. If watching or reading fails,
// Run reports the error to Options.OnError, keeps the grants it has, and
// tries again with a growing delay (up to 30s).
func (a *Authorizer) Run(ctx context.Context) error {
	return follow.Loop(ctx, a.followOnce, a.onError)
}

// followOnce watches the Store and reads the grants when told, until
// watching fails or ctx is done.
func (a *Authorizer) followOnce(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	errc := make(chan error, 1)
	if w, ok := a.store.(Watcher); ok {
		go func() { errc <- w.Watch(ctx, changed) }()
	} else {
		go func() { errc <- follow.Poll(ctx, a.pollInterval, changed) }()
	}
	for {
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("rbac: the store stopped watching")
			}
			return err
		case <-changed:
		}
		if err := a.Refresh(ctx); err != nil {
			return err
		}
	}
}
