// Package bench compares dataward with other libraries on the same work.
// It is a module of its own, so that dataward's main module never depends
// on them. Run it with
//
//	cd bench && go test -bench . -count 6
//
// The rbac comparison regenerates the policies of Casbin's own RBAC
// benchmarks (casbin/casbin, rbac_api_benchmark_test.go) for both engines:
// permission rules (group<i>, data<i/10>, read) for i < R and role links
// (user<j>, group<j/10>) for j < U, in three sizes and a 10-tenant version
// of the medium one.
package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dataward/dataward/rbac"
)

// Size is one of the policies of Casbin's benchmarks.
type Size struct {
	Name    string
	R, U    int // permission rules, users
	Tenants int // 0: the model without tenants
}

// The sizes of Casbin's benchmarks, and the 10-tenant version of medium.
var (
	Small   = Size{Name: "small", R: 100, U: 1000}
	Medium  = Size{Name: "medium", R: 1000, U: 10000}
	Large   = Size{Name: "large", R: 10000, U: 100000}
	Tenants = Size{Name: "tenants", R: 1000, U: 10000, Tenants: 10}
	Sizes   = []Size{Small, Medium, Large, Tenants}
)

// CasbinModel is Casbin's RBAC model of its benchmarks.
const CasbinModel = `[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`

// CasbinTenantModel is Casbin's RBAC model with domains (tenants).
const CasbinTenantModel = `[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// tenantOf is the tenant of role group<i>; user<j> holds group<j/10> in it.
func tenantOf(i int) string { return fmt.Sprint("tenant", i%10) }

// Policy returns the dataward policy of size s. With tenants, role
// group<i> is defined in tenant<i%10>, and user<j> holds group<j/10> there.
func (s Size) Policy() *rbac.Policy {
	p := &rbac.Policy{Roles: make([]rbac.Role, s.R), Assignments: make([]rbac.Assignment, s.U)}
	for i := range s.R {
		p.Roles[i] = rbac.Role{Name: fmt.Sprint("group", i), Allow: []rbac.Permission{{Action: "read", Resource: fmt.Sprint("data", i/10)}}}
		if s.Tenants > 0 {
			p.Roles[i].Tenant = tenantOf(i)
		}
	}
	for j := range s.U {
		p.Assignments[j] = rbac.Assignment{User: fmt.Sprint("user", j), Roles: []string{fmt.Sprint("group", j/10)}}
		if s.Tenants > 0 {
			p.Assignments[j].Tenant = tenantOf(j / 10)
		}
	}
	return p
}

// MembersPolicy is Policy with each role listing its members rather than
// an assignment per user: the same policy, written as a policy file would
// write it.
func (s Size) MembersPolicy() *rbac.Policy {
	p := s.Policy()
	for j, a := range p.Assignments {
		r := &p.Roles[j/10]
		r.Members = append(r.Members, a.User)
	}
	p.Assignments = nil
	return p
}

// CasbinRules returns the p and g rules of size s, as Casbin's AddPolicies
// and AddGroupingPolicies take them.
func (s Size) CasbinRules() (p, g [][]string) {
	for i := range s.R {
		if s.Tenants > 0 {
			p = append(p, []string{fmt.Sprint("group", i), tenantOf(i), fmt.Sprint("data", i/10), "read"})
		} else {
			p = append(p, []string{fmt.Sprint("group", i), fmt.Sprint("data", i/10), "read"})
		}
	}
	for j := range s.U {
		if s.Tenants > 0 {
			g = append(g, []string{fmt.Sprint("user", j), fmt.Sprint("group", j/10), tenantOf(j / 10)})
		} else {
			g = append(g, []string{fmt.Sprint("user", j), fmt.Sprint("group", j/10)})
		}
	}
	return p, g
}

// Requests returns the allow and deny requests of Casbin's benchmarks:
// user<U/2+1> reading data<(U/2+1)/100> and data<R/10-1>, in the tenant
// of the user's role.
func (s Size) Requests() (user, tenant, allow, deny string) {
	u := s.U/2 + 1
	user, allow, deny = fmt.Sprint("user", u), fmt.Sprint("data", u/100), fmt.Sprint("data", s.R/10-1)
	if s.Tenants > 0 {
		tenant = tenantOf(u / 10)
	}
	return user, tenant, allow, deny
}

// WriteFiles writes the policy of size s into dir for both engines and
// returns their paths: dataward's as JSON, with roles listing their members
// (and, in datawardAssignments, with an assignment per user), Casbin's
// model and its CSV.
func (s Size) WriteFiles(dir string) (datawardPath, datawardAssignments, casbinModel, casbinCSV string, err error) {
	datawardPath = filepath.Join(dir, s.Name+".json")
	datawardAssignments = filepath.Join(dir, s.Name+"-assignments.json")
	casbinModel = filepath.Join(dir, s.Name+".conf")
	casbinCSV = filepath.Join(dir, s.Name+".csv")
	for path, p := range map[string]*rbac.Policy{datawardPath: s.MembersPolicy(), datawardAssignments: s.Policy()} {
		data, err := json.Marshal(p)
		if err != nil {
			return "", "", "", "", err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", "", "", "", err
		}
	}
	model := CasbinModel
	if s.Tenants > 0 {
		model = CasbinTenantModel
	}
	if err := os.WriteFile(casbinModel, []byte(model), 0o600); err != nil {
		return "", "", "", "", err
	}
	f, err := os.Create(casbinCSV)
	if err != nil {
		return "", "", "", "", err
	}
	w := bufio.NewWriter(f)
	p, g := s.CasbinRules()
	for _, r := range p {
		fmt.Fprint(w, "p")
		for _, v := range r {
			fmt.Fprint(w, ", ", v)
		}
		fmt.Fprintln(w)
	}
	for _, r := range g {
		fmt.Fprint(w, "g")
		for _, v := range r {
			fmt.Fprint(w, ", ", v)
		}
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", "", "", "", err
	}
	return datawardPath, datawardAssignments, casbinModel, casbinCSV, f.Close()
}
