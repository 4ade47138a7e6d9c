package pii

import "context"

// Revealer decides whether the actor of a context may see a category of
// personal data (such as "contact.email") in clear. An *rbac.Authorizer is
// one: its permission "reveal" on a category says so. Implementations
// must deny, not fail, when they cannot tell.
type Revealer interface {
	MayReveal(ctx context.Context, category string) bool
}

// Show returns value in clear if r lets the actor of ctx see category, and
// masked by kind otherwise. A nil r reveals nothing: masked is the default.
func Show(ctx context.Context, r Revealer, category string, kind MaskKind, value string) string {
	if r != nil && r.MayReveal(ctx, category) {
		return value
	}
	return kind.Mask(value)
}
