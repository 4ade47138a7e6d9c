package rbac

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dataward/dataward/internal/nanotime"
)

// A snapshot is a compiled policy: flat tables in which a check is a few
// map lookups, whatever the size of the policy. It is never changed once
// built; Reload replaces it whole.
//
// Every role has a set of effective permissions (its own and those it
// inherits, with denies), and so has every distinct combination of roles
// that some user holds for good; a set is numbered, and perms maps (set,
// action, resource) to the rule that decides it. Role i's own set is set
// i. Actions and resources named by the rules are interned as numbers; 0
// is the wildcard "*" of both.
type snapshot struct {
	actions   map[string]int32 // known actions -> id >= 1
	resources map[string]int32 // resources the rules name exactly -> id >= 1
	prefixes  map[string]int32 // "contact." for the pattern "contact.*" -> id
	resNames  []string         // by id: the resource name or prefix ("*" for 0)
	perms     map[permKey]int32
	patterns  []bool // per set: it holds a rule with a wildcard or a prefix

	roles    []roleInfo
	rules    []rule
	global   map[string]int32 // roles of every tenant -> role (= set) id
	tenants  map[string]*tenantTable
	setRoles [][]int32 // roles held, for the sets of combinations (id - len(roles))
	// timed holds the policy's assignments bounded in time.
	timed map[userKey][]timedSet
}

type permKey struct{ set, act, res int32 }

// ruleRef is the index of a rule in snapshot.rules, or -1 for none.
type ruleRef = int32

type roleInfo struct {
	name, tenant string
	parents      []int32
	breakGlass   bool
}

// rule is one allow or deny of a role.
type rule struct {
	role     int32
	deny     bool
	action   string // as written
	resource string // as written
	act, res int32  // interned; 0 is "*"
	pattern  bool   // a wildcard action or resource, or a prefix
}

type tenantTable struct {
	users map[string]int32 // user -> set of the roles held for good
	roles map[string]int32 // roles defined in the tenant -> role (= set) id
}

type userKey struct{ tenant, user string }

// timedSet is a role held for a time: by a policy assignment, a runtime
// grant or a break-glass grant.
type timedSet struct {
	set         int32
	from, until int64 // unix nanoseconds; 0: unbounded
	grant       int32 // index into state.grants, or -1 for a policy assignment
	breakGlass  bool
}

func (t *timedSet) active(now int64) bool {
	return (t.from == 0 || now >= t.from) && (t.until == 0 || now < t.until)
}

// compile builds the snapshot of a valid policy.
func compile(p *Policy) *snapshot {
	s := &snapshot{
		actions:   make(map[string]int32),
		resources: make(map[string]int32),
		prefixes:  make(map[string]int32),
		tenants:   make(map[string]*tenantTable),
		timed:     make(map[userKey][]timedSet),
		roles:     make([]roleInfo, len(p.Roles)),
		resNames:  []string{"*"},
	}
	for _, a := range p.Actions {
		s.internAction(a)
	}
	users := len(p.Assignments)
	for _, r := range p.Roles {
		users += len(r.Members)
	}
	tenant := func(name string) *tenantTable {
		t := s.tenants[name]
		if t == nil {
			// Most policies have one tenant, or a few of similar size.
			t = &tenantTable{users: make(map[string]int32, users/(len(s.tenants)+1)), roles: make(map[string]int32)}
			s.tenants[name] = t
		}
		return t
	}
	global := make(map[string]int32)
	s.global = global
	for i, r := range p.Roles {
		s.roles[i] = roleInfo{name: r.Name, tenant: r.Tenant, breakGlass: r.BreakGlass}
		if r.Tenant == "" {
			global[r.Name] = int32(i)
		} else {
			tenant(r.Tenant).roles[r.Name] = int32(i)
		}
	}
	for i, r := range p.Roles {
		for _, name := range r.Inherits {
			s.roles[i].parents = append(s.roles[i].parents, s.role(r.Tenant, name))
		}
		for _, perm := range r.Allow {
			s.addRule(int32(i), false, perm)
		}
		for _, perm := range r.Deny {
			s.addRule(int32(i), true, perm)
		}
	}

	// The rules of each role's set: its own and its ancestors', in order.
	own := make([][]int32, len(p.Roles))
	for i, r := range s.rules {
		own[r.role] = append(own[r.role], int32(i))
	}
	// The roles reachable from roles, each once, the first first.
	stamp := make([]int32, len(p.Roles))
	gen := int32(0)
	reach := func(roles ...int32) []int32 {
		gen++
		var out, stack []int32
		for _, r := range slices.Backward(roles) {
			stamp[r] = gen
			stack = append(stack, r)
		}
		for len(stack) > 0 {
			r := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out = append(out, r)
			for _, p := range slices.Backward(s.roles[r].parents) {
				if stamp[p] != gen {
					stamp[p] = gen
					stack = append(stack, p)
				}
			}
		}
		return out
	}
	s.perms = make(map[permKey]int32, len(s.rules))
	s.patterns = make([]bool, len(p.Roles))
	one := make([]int32, 1)
	for i := range p.Roles {
		roles := one
		if len(s.roles[i].parents) > 0 {
			roles = reach(int32(i))
		} else {
			one[0] = int32(i)
		}
		s.addSet(int32(i), roles, own)
	}

	// Users: one set per distinct combination of roles held for good.
	// Most users hold one role, whose set is the role's own.
	multi := make(map[userKey][]int32)
	hold := func(t *tenantTable, k userKey, id int32) {
		cur, ok := t.users[k.user]
		switch {
		case !ok:
			t.users[k.user] = id
		case cur == id:
		default:
			ids := multi[k]
			if ids == nil {
				ids = []int32{cur}
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
			multi[k] = ids
		}
	}
	for i, r := range p.Roles {
		if len(r.Members) == 0 {
			continue
		}
		t := tenant(r.Tenant)
		for _, user := range r.Members {
			hold(t, userKey{r.Tenant, user}, int32(i))
		}
	}
	for _, a := range p.Assignments {
		k := userKey{a.Tenant, a.User}
		t := tenant(a.Tenant)
		if !a.NotBefore.IsZero() || !a.Expires.IsZero() {
			for _, name := range a.Roles {
				s.timed[k] = append(s.timed[k], timedSet{set: s.role(a.Tenant, name), from: nanotime.Of(a.NotBefore), until: nanotime.Of(a.Expires), grant: -1})
			}
			continue
		}
		for _, name := range a.Roles {
			hold(t, k, s.role(a.Tenant, name))
		}
	}
	combos := make(map[string]int32)
	var b strings.Builder
	for k, ids := range multi {
		slices.Sort(ids)
		b.Reset()
		for _, id := range ids {
			b.WriteString(strconv.Itoa(int(id)))
			b.WriteByte(',')
		}
		set, ok := combos[b.String()]
		if !ok {
			set = int32(len(s.patterns))
			combos[b.String()] = set
			s.patterns = append(s.patterns, false)
			s.setRoles = append(s.setRoles, ids)
			s.addSet(set, reach(ids...), own)
		}
		s.tenants[k.tenant].users[k.user] = set
	}
	return s
}

func (s *snapshot) internAction(a string) int32 {
	if a == "*" {
		return 0
	}
	id, ok := s.actions[a]
	if !ok {
		id = int32(len(s.actions) + 1)
		s.actions[a] = id
	}
	return id
}

// internResource returns the id of a resource pattern, and whether it is a
// pattern (the wildcard or a prefix) rather than a name.
func (s *snapshot) internResource(r string) (int32, bool) {
	if r == "*" {
		return 0, true
	}
	m, key := s.resources, r
	prefix, pattern := strings.CutSuffix(r, "*")
	if pattern {
		m, key = s.prefixes, prefix
	}
	id, ok := m[key]
	if !ok {
		id = int32(len(s.resNames))
		s.resNames = append(s.resNames, key)
		m[key] = id
	}
	return id, pattern
}

func (s *snapshot) addRule(role int32, deny bool, p Permission) {
	s.rules = append(s.rules, rule{
		role: role, deny: deny, action: p.Action, resource: p.Resource,
		act: s.internAction(p.Action),
	})
	r := &s.rules[len(s.rules)-1]
	r.res, r.pattern = s.internResource(p.Resource)
	r.pattern = r.pattern || r.act == 0
}

// addSet enters the rules of roles into set. Every rule is entered under its
// own key, a deny replacing an allow. An entry for an action and a resource
// name (no wildcard) is then final: if a wildcard or prefix rule of the set
// denies the same, the entry is that deny, so that a check that finds an
// exact entry need look no further.
func (s *snapshot) addSet(set int32, roles []int32, own [][]int32) {
	var patterns []int32
	var exact []permKey
	for _, role := range roles {
		for _, ri := range own[role] {
			r := &s.rules[ri]
			k := permKey{set, r.act, r.res}
			if r.pattern {
				patterns = append(patterns, ri)
				s.patterns[set] = true
			} else {
				exact = append(exact, k)
			}
			if old, ok := s.perms[k]; !ok || r.deny && !s.rules[old].deny {
				s.perms[k] = ri
			}
		}
	}
	for _, k := range exact {
		if s.rules[s.perms[k]].deny {
			continue
		}
		for _, ri := range patterns {
			if r := &s.rules[ri]; r.deny && s.covers(r, k.act, k.res) {
				s.perms[k] = ri
				break
			}
		}
	}
}

// covers reports whether pattern rule r applies to the action act and the
// resource name res (ids).
func (s *snapshot) covers(r *rule, act, res int32) bool {
	if r.act != 0 && r.act != act {
		return false
	}
	switch {
	case r.res == 0:
		return true
	case strings.HasSuffix(r.resource, "*"):
		return strings.HasPrefix(s.resNames[res], s.resNames[r.res])
	}
	return r.res == res
}

// match looks up what set says about the action act (a known action's id)
// on resource, whose id is res, or -1 if no rule names it. It returns the
// deciding rule, or -1 if no rule of the set applies. It allocates nothing.
func (s *snapshot) match(set, act, res int32, resource string) ruleRef {
	if res > 0 {
		if ri, ok := s.perms[permKey{set, act, res}]; ok {
			return ri
		}
	}
	if !s.patterns[set] {
		return -1
	}
	found := ruleRef(-1)
	for _, a := range [2]int32{act, 0} {
		if a == 0 && res > 0 && s.try(permKey{set, 0, res}, &found) {
			return found
		}
		for i := len(resource) - 1; i > 0; i-- {
			if resource[i-1] != '.' {
				continue
			}
			if id, ok := s.prefixes[resource[:i]]; ok && s.try(permKey{set, a, id}, &found) {
				return found
			}
		}
		if s.try(permKey{set, a, 0}, &found) {
			return found
		}
	}
	return found
}

// try looks k up: it records an allow in *found if none is there yet, and
// reports whether k is a deny, which it records too.
func (s *snapshot) try(k permKey, found *ruleRef) bool {
	ri, ok := s.perms[k]
	if !ok {
		return false
	}
	if s.rules[ri].deny {
		*found = ri
		return true
	}
	if *found < 0 {
		*found = ri
	}
	return false
}

// role returns the id of the role name in tenant, or -1.
func (s *snapshot) role(tenant, name string) int32 {
	if t := s.tenants[tenant]; t != nil {
		if id, ok := t.roles[name]; ok {
			return id
		}
	}
	if id, ok := s.global[name]; ok {
		return id
	}
	return -1
}

// held returns the roles whose union is set.
func (s *snapshot) held(set int32) []int32 {
	if int(set) < len(s.roles) {
		return []int32{set}
	}
	return s.setRoles[int(set)-len(s.roles)]
}

// path returns the shortest chain of inheritance from one of the roles
// from to the role to, as role names: [manager support-agent].
func (s *snapshot) path(from []int32, to int32) []string {
	prev := make(map[int32]int32, 8)
	queue := make([]int32, 0, 8)
	for _, r := range from {
		if _, ok := prev[r]; !ok {
			prev[r] = -1
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if r == to {
			var out []string
			for ; r >= 0; r = prev[r] {
				out = append(out, s.roles[r].name)
			}
			slices.Reverse(out)
			return out
		}
		for _, p := range s.roles[r].parents {
			if _, ok := prev[p]; !ok {
				prev[p] = r
				queue = append(queue, p)
			}
		}
	}
	return nil
}
