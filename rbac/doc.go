// Package rbac decides who may do what to personal data: roles with
// permissions, inheritance, tenants, explicit denies, grants bounded in
// time, break-glass access, and field-level reveal of personal data
// (GDPR Art. 25 and 32, POPIA s19: access by role, deny by default, only
// what the job needs).
//
// # Policy
//
// A [Policy] names roles, each allowing and denying permissions (an action
// on a type of resource, with wildcards: action "*", resource "*" or
// "contact.*"), inheriting other roles (a directed acyclic graph of any
// depth), and defined for every tenant or for one. Assignments give roles
// to users within a tenant, for good or between two times. Policies are
// code: load them with [ParseYAML], [ParseJSON] or [LoadFile]; every
// problem (unknown role, cycle with its path, duplicate, bad pattern) is
// reported at once with its place.
//
// # Decisions
//
// An [Authorizer] compiles the policy into flat tables: for every role, and
// every combination of roles a user holds, the set of effective
// permissions, keyed by interned ids. [Authorizer.Check] is then a few map
// lookups, allocates nothing, and costs about the same whatever the size
// of the policy. The rules:
//
//   - Deny by default: nothing is allowed unless a rule of a role the
//     actor holds, in the actor's tenant, allows it.
//   - A deny rule of any role the actor holds overrides every allow.
//   - An action the policy does not know, a missing actor or an empty
//     resource is denied, with a reason code; nothing panics.
//
// [Authorizer.Explain] makes the same decision and says why: the rule, the
// chain of roles from the one held to the one with the rule, how the role
// is held, the tenant and a [Reason].
//
// [Authorizer.Reload] replaces the policy as a whole without blocking
// checks (copy on write). Runtime grants ([Authorizer.Grant],
// [Authorizer.Revoke]) are kept in a [Store] and count at once in the
// process that makes them; [Authorizer.Run] follows the Store so that
// other processes see them too (within a second on PostgreSQL, through
// package sqlstore).
//
// # Break-glass
//
// A role marked break_glass can be taken only with [Authorizer.BreakGlass]:
// by the actor asking, for a stated reason, for a limited time. The grant
// and every access it alone allows are recorded in the audit log; without
// an audit logger there is no break-glass.
//
// # Field-level reveal
//
// The action "reveal" on a data category ("contact.email") lets an actor
// see that category in clear. [Authorizer.MayReveal] answers it for the
// actor of a context, which makes an Authorizer a pii.Revealer: pii.Show
// then masks what the actor may not see.
//
// # HTTP
//
// [Authorizer.Require] is middleware that lets a request through only if
// its actor holds a permission, answers 403 otherwise without saying why,
// and records the denial in the audit log.
package rbac
