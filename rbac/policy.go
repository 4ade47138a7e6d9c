package rbac

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/docfile"
)

// Policy is a whole access policy: the actions it knows, its roles and who
// holds them. It is plain data, loaded with [ParseYAML], [ParseJSON] or
// [LoadFile] or built in code, and given to [New] or [Authorizer.Reload],
// which validate and compile it. In YAML:
//
//	actions: [read, update, delete, export, reveal]
//	roles:
//	  - name: support-agent
//	    allow:
//	      - {action: read, resource: customer}
//	  - name: manager
//	    inherits: [support-agent]
//	    allow:
//	      - {action: "*", resource: customer}
//	      - {action: reveal, resource: "contact.*"}
//	    deny:
//	      - {action: delete, resource: customer}
//	  - name: emergency
//	    break_glass: true
//	    allow:
//	      - {action: "*", resource: "*"}
//	assignments:
//	  - {user: u-17, roles: [support-agent], tenant: acme}
//	  - {user: u-18, roles: [manager], tenant: acme, expires: 2026-12-31T00:00:00Z}
type Policy struct {
	// Actions lists the actions checks may ask about, besides those the
	// rules name. A check of an action the policy does not know is denied
	// with [ReasonUnknownAction], even for a role allowed every action
	// ("*"), so that a typo in the host's code never grants access.
	Actions []string `json:"actions,omitempty" yaml:"actions,omitempty"`
	// Roles are the roles, each with its permissions.
	Roles []Role `json:"roles" yaml:"roles"`
	// Assignments give roles to users.
	Assignments []Assignment `json:"assignments,omitempty" yaml:"assignments,omitempty"`
}

// Role is a named set of permissions. A role inherits every permission,
// allowed or denied, of the roles it names in Inherits; inheritance forms a
// directed acyclic graph of any depth.
type Role struct {
	Name string `json:"name" yaml:"name"`
	// Tenant, if set, defines the role in that tenant only; a role
	// without one is defined in every tenant. A tenant's role may inherit
	// roles of its tenant and roles of every tenant; a role of every
	// tenant may inherit only those.
	Tenant string `json:"tenant,omitempty" yaml:"tenant,omitempty"`
	// Inherits names the roles whose permissions this role also has.
	Inherits []string `json:"inherits,omitempty" yaml:"inherits,omitempty"`
	// Allow lists what the role may do.
	Allow []Permission `json:"allow,omitempty" yaml:"allow,omitempty"`
	// Deny lists what the role may not do, whatever any role allows: a
	// deny overrides every allow of the actor's roles.
	Deny []Permission `json:"deny,omitempty" yaml:"deny,omitempty"`
	// Members lists users who hold the role for good in the role's tenant
	// (the default tenant "" for a role of every tenant): a shorter way to
	// write assignments, for large policies.
	Members []string `json:"members,omitempty" yaml:"members,omitempty"`
	// BreakGlass marks a role that can be taken for a short time with
	// [Authorizer.BreakGlass], stating a reason; only such roles can.
	BreakGlass  bool   `json:"break_glass,omitempty" yaml:"break_glass,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// Permission is an action on a type of resource. Action is an action name
// or "*" (every action the policy knows). Resource is a resource type, a
// category of personal data such as "contact.email", a prefix pattern such
// as "contact.*" (every resource under "contact."), or "*" (every
// resource). Field-level reveal is the action [ActionReveal] on a data
// category.
type Permission struct {
	Action   string `json:"action" yaml:"action"`
	Resource string `json:"resource" yaml:"resource"`
}

// String returns "action resource".
func (p Permission) String() string { return p.Action + " " + p.Resource }

// Assignment gives roles to a user within a tenant ("" is the default
// tenant, for hosts that have one). NotBefore and Expires, when set, bound
// the time the roles hold: they start and end on their own.
type Assignment struct {
	User      string    `json:"user" yaml:"user"`
	Tenant    string    `json:"tenant,omitempty" yaml:"tenant,omitempty"`
	Roles     []string  `json:"roles" yaml:"roles"`
	NotBefore time.Time `json:"not_before,omitzero" yaml:"not_before,omitempty"`
	Expires   time.Time `json:"expires,omitzero" yaml:"expires,omitempty"`
}

// ActionReveal is the action that lets an actor see a category of personal
// data in clear (see [Authorizer.MayReveal]).
const ActionReveal = "reveal"

// Limits on the names in a policy.
const (
	MaxNameLen = 255 // the longest role, user, tenant, action or resource, in bytes
)

// ParseYAML parses and validates a policy in YAML. Errors name the place of
// every problem found, as a path and a line: a syntax error, or a
// [*dataward.ValidationError] listing every problem at once (unknown
// fields and roles, duplicates, cycles with their path, bad patterns).
func ParseYAML(data []byte) (*Policy, error) {
	var p Policy
	if err := policyDoc.YAML(data, &p, p.Validate); err != nil {
		return nil, err
	}
	return &p, nil
}

var policyDoc = docfile.Doc{Package: "rbac", Noun: "policy"}

// ParseJSON parses and validates a policy in JSON. Unknown fields are
// refused. A syntax error names its line and column; a policy that parses
// but is invalid gets a [*dataward.ValidationError] listing every problem,
// each with its path ("roles[2].inherits[0]").
func ParseJSON(data []byte) (*Policy, error) {
	var p Policy
	if err := policyDoc.JSON(data, &p, p.Validate); err != nil {
		return nil, err
	}
	return &p, nil
}

// LoadFile reads and parses a policy file: JSON if its name ends in
// ".json", YAML otherwise (YAML is a superset of JSON).
func LoadFile(path string) (*Policy, error) {
	var p Policy
	if err := policyDoc.File(path, &p, p.Validate); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports every problem of p at once, in a
// [*dataward.ValidationError] whose fields are paths such as
// "roles[2].inherits[0]": names that are empty, too long or not printable;
// duplicate roles; unknown roles (inherited or assigned, or of another
// tenant); cycles of inheritance, with their path; bad patterns; an
// Expires not after NotBefore.
func (p *Policy) Validate() error {
	ve := &dataward.ValidationError{Package: "rbac"}
	for i, a := range p.Actions {
		checkAction(ve, fmt.Sprintf("actions[%d]", i), a, false)
	}
	type key struct{ tenant, name string }
	index := make(map[key]int, len(p.Roles))
	for i, r := range p.Roles {
		at := fmt.Sprintf("roles[%d]", i)
		checkName(ve, at+".name", r.Name)
		if r.Tenant != "" {
			checkName(ve, at+".tenant", r.Tenant)
		}
		k := key{r.Tenant, r.Name}
		if j, ok := index[k]; ok {
			ve.Add(at+".name", fmt.Sprintf("duplicates role %q of roles[%d]", r.Name, j))
			continue
		}
		if j, ok := index[key{"", r.Name}]; ok && r.Tenant != "" {
			ve.Add(at+".name", fmt.Sprintf("duplicates role %q of roles[%d], which every tenant has", r.Name, j))
			continue
		}
		index[k] = i
		for j, perm := range r.Allow {
			checkPermission(ve, fmt.Sprintf("%s.allow[%d]", at, j), perm)
		}
		for j, perm := range r.Deny {
			checkPermission(ve, fmt.Sprintf("%s.deny[%d]", at, j), perm)
		}
	}
	// A tenant role shadowing a global role defined later.
	for i, r := range p.Roles {
		if r.Tenant == "" {
			continue
		}
		if j, ok := index[key{"", r.Name}]; ok && j > i {
			ve.Add(fmt.Sprintf("roles[%d].name", j), fmt.Sprintf("duplicates role %q of roles[%d] in tenant %q", r.Name, i, r.Tenant))
		}
	}
	resolve := func(tenant, name string) (int, bool) {
		if tenant != "" {
			if j, ok := index[key{tenant, name}]; ok {
				return j, true
			}
		}
		j, ok := index[key{"", name}]
		return j, ok
	}
	parents := make([][]int, len(p.Roles))
	for i, r := range p.Roles {
		for j, user := range r.Members {
			if msg := nameProblem(user); msg != "" {
				ve.Add(fmt.Sprintf("roles[%d].members[%d]", i, j), msg)
			}
		}
		if r.BreakGlass && len(r.Members) > 0 {
			ve.Add(fmt.Sprintf("roles[%d].members", i), "must be empty: a break-glass role can only be taken with BreakGlass")
		}
		var seen map[string]bool
		if len(r.Inherits) > 1 {
			seen = make(map[string]bool, len(r.Inherits))
		}
		for j, name := range r.Inherits {
			at := fmt.Sprintf("roles[%d].inherits[%d]", i, j)
			switch k, ok := resolve(r.Tenant, name); {
			case name == r.Name:
				ve.Add(at, fmt.Sprintf("role %q inherits itself", name))
			case seen[name]:
				ve.Add(at, fmt.Sprintf("names role %q twice", name))
			case !ok:
				ve.Add(at, unknownRole(name, r.Tenant, p, "inherited"))
			case p.Roles[k].BreakGlass:
				ve.Add(at, fmt.Sprintf("names break-glass role %q, which can only be taken with BreakGlass", name))
			default:
				parents[i] = append(parents[i], k)
			}
			if seen != nil {
				seen[name] = true
			}
		}
	}
	for _, cycle := range cycles(parents) {
		names := make([]string, len(cycle))
		for i, r := range cycle {
			names[i] = p.Roles[r].Name
		}
		ve.Add(fmt.Sprintf("roles[%d].inherits", cycle[0]), "forms a cycle: "+strings.Join(names, " -> "))
	}
	for i, a := range p.Assignments {
		at := func(field string) string { return fmt.Sprintf("assignments[%d].%s", i, field) }
		if msg := nameProblem(a.User); msg != "" {
			ve.Add(at("user"), msg)
		}
		if msg := nameProblem(a.Tenant); a.Tenant != "" && msg != "" {
			ve.Add(at("tenant"), msg)
		}
		if len(a.Roles) == 0 {
			ve.Add(at("roles"), "is empty")
		}
		for j, name := range a.Roles {
			switch k, ok := resolve(a.Tenant, name); {
			case !ok:
				ve.Add(at(fmt.Sprintf("roles[%d]", j)), unknownRole(name, a.Tenant, p, "assigned"))
			case p.Roles[k].BreakGlass:
				ve.Add(at(fmt.Sprintf("roles[%d]", j)), fmt.Sprintf("names break-glass role %q, which can only be taken with BreakGlass", name))
			}
		}
		if !a.NotBefore.IsZero() && !a.Expires.IsZero() && !a.Expires.After(a.NotBefore) {
			ve.Add(at("expires"), "is not after not_before")
		}
	}
	return ve.Err()
}

// unknownRole says why name is not a role in tenant.
func unknownRole(name, tenant string, p *Policy, what string) string {
	for _, r := range p.Roles {
		if r.Name == name && r.Tenant != tenant && r.Tenant != "" {
			return fmt.Sprintf("names role %q of tenant %q, which cannot be %s in tenant %q", name, r.Tenant, what, tenant)
		}
	}
	return fmt.Sprintf("names unknown role %q", name)
}

// cycles returns each cycle of the graph once, as the path from its first
// role back to it: [a b c a].
func cycles(parents [][]int) [][]int {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(parents))
	var stack []int
	var out [][]int
	var visit func(n int)
	visit = func(n int) {
		color[n] = grey
		stack = append(stack, n)
		for _, m := range parents[n] {
			switch color[m] {
			case white:
				visit(m)
			case grey:
				i := slices.Index(stack, m)
				out = append(out, append(slices.Clone(stack[i:]), m))
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for n := range parents {
		if color[n] == white {
			visit(n)
		}
	}
	return out
}

func checkName(ve *dataward.ValidationError, at, name string) {
	if msg := nameProblem(name); msg != "" {
		ve.Add(at, msg)
	}
}

// nameProblem says what is wrong with a name, or "".
func nameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
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

// checkAction checks an action name, or "*" where wildcard is true.
func checkAction(ve *dataward.ValidationError, at, action string, wildcard bool) {
	if wildcard && action == "*" {
		return
	}
	checkName(ve, at, action)
	if strings.Contains(action, "*") {
		ve.Add(at, fmt.Sprintf("%q is not a valid action: a wildcard must be the whole action, \"*\"", action))
	}
}

// checkResource checks a resource pattern: "*", "prefix.*" or a name
// without "*".
func checkResource(ve *dataward.ValidationError, at, res string) {
	if res == "*" {
		return
	}
	checkName(ve, at, res)
	name, prefix := strings.CutSuffix(res, ".*")
	switch {
	case strings.Contains(name, "*"):
		ve.Add(at, fmt.Sprintf("%q is not a valid resource pattern: use a name, \"prefix.*\" or \"*\"", res))
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, ".."):
		ve.Add(at, fmt.Sprintf("%q is not a valid resource pattern: it has an empty segment", res))
	case prefix && name == "":
		ve.Add(at, fmt.Sprintf("%q is not a valid resource pattern: it has an empty segment", res))
	}
}

func checkPermission(ve *dataward.ValidationError, at string, p Permission) {
	checkAction(ve, at+".action", p.Action, true)
	checkResource(ve, at+".resource", p.Resource)
}
