package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
)

func newCasbin(tb testing.TB, modelText string, p, g [][]string) *casbin.Enforcer {
	tb.Helper()
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		tb.Fatal(err)
	}
	if len(p) > 0 {
		if _, err := e.AddPolicies(p); err != nil {
			tb.Fatal(err)
		}
	}
	if len(g) > 0 {
		if _, err := e.AddGroupingPolicies(g); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

func newDataward(tb testing.TB, p *rbac.Policy) *rbac.Authorizer {
	tb.Helper()
	a, err := rbac.New(p, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func casbinModelOf(s Size) string {
	if s.Tenants > 0 {
		return CasbinTenantModel
	}
	return CasbinModel
}

// BenchmarkCheck: BenchmarkCheck/<size>/<allow|deny>/<dataward|casbin>, on
// the policies and requests of Casbin's own benchmarks.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	for _, s := range Sizes {
		a := newDataward(b, s.Policy())
		p, g := s.CasbinRules()
		e := newCasbin(b, casbinModelOf(s), p, g)
		user, tenant, allow, deny := s.Requests()
		actor := dataward.Actor{ID: user, Tenant: tenant}
		for _, req := range []struct {
			name, resource string
			want           bool
		}{{"allow", allow, true}, {"deny", deny, false}} {
			b.Run(s.Name+"/"+req.name+"/dataward", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if a.Check(ctx, actor, "read", req.resource) != req.want {
						b.Fatal("wrong decision")
					}
				}
			})
			args := []any{user, req.resource, "read"}
			if tenant != "" {
				args = []any{user, tenant, req.resource, "read"}
			}
			b.Run(s.Name+"/"+req.name+"/casbin", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ok, err := e.Enforce(args...)
					if err != nil || ok != req.want {
						b.Fatal("wrong decision", err)
					}
				}
			})
		}
	}
}

// heapMiB returns the heap retained by what load returns, in MiB.
func heapMiB(load func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := load()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}

// BenchmarkLoad: BenchmarkLoad/large/<dataward|casbin> loads the large
// policy from a file (dataward: JSON with roles listing their members,
// parsed, validated and compiled; Casbin: its model and CSV) and reports
// the heap the result retains. large/dataward-assignments loads the same
// policy written with one assignment per user.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	dw, dwAssignments, conf, csv, err := Large.WriteFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	loadDataward := func(path string) func() any {
		return func() any {
			p, err := rbac.LoadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			return newDataward(b, p)
		}
	}
	loadCasbin := func() any {
		e, err := casbin.NewEnforcer(conf, csv)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	for _, engine := range []struct {
		name string
		load func() any
	}{{"dataward", loadDataward(dw)}, {"dataward-assignments", loadDataward(dwAssignments)}, {"casbin", loadCasbin}} {
		b.Run("large/"+engine.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				engine.load()
			}
			b.ReportMetric(heapMiB(engine.load), "heapMiB")
		})
	}
}

// BenchmarkCheckDuringReload measures Check on the medium policy while
// another goroutine reloads it without pause (alternating two versions),
// and reports the 99th percentile of a check's latency beside the same
// measure with no reload.
func BenchmarkCheckDuringReload(b *testing.B) {
	ctx := context.Background()
	one, two := Medium.Policy(), Medium.Policy()
	two.Roles[0].Allow = append(two.Roles[0].Allow, rbac.Permission{Action: "read", Resource: "extra"})
	user, _, allow, _ := Medium.Requests()
	actor := dataward.Actor{ID: user}
	for _, reloading := range []bool{false, true} {
		name := "idle"
		if reloading {
			name = "reloading"
		}
		b.Run(name+"/dataward", func(b *testing.B) {
			a := newDataward(b, one)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var reloads atomic.Int64
			if reloading {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						p := one
						if i%2 == 1 {
							p = two
						}
						if err := a.Reload(p); err != nil {
							panic(err)
						}
						reloads.Add(1)
					}
				})
			}
			lat := make([]time.Duration, 0, 1<<20)
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				if !a.Check(ctx, actor, "read", allow) {
					b.Fatal("wrong decision")
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
			if reloading {
				b.ReportMetric(float64(reloads.Load()), "reloads")
			}
		})
	}
}

// request is one random request of TestAgreesWithCasbin.
type request struct{ user, tenant, obj, act string }

// agree runs requests through both engines and reports each disagreement.
// With tenants, Casbin's requests carry the tenant, even "".
func agree(t *testing.T, a *rbac.Authorizer, e *casbin.Enforcer, tenants bool, reqs []request) {
	t.Helper()
	ctx := context.Background()
	bad := 0
	for _, r := range reqs {
		args := []any{r.user, r.obj, r.act}
		if tenants {
			args = []any{r.user, r.tenant, r.obj, r.act}
		}
		want, err := e.Enforce(args...)
		if err != nil {
			t.Fatal(err)
		}
		got := a.Check(ctx, dataward.Actor{ID: r.user, Tenant: r.tenant}, r.act, r.obj)
		if got != want {
			bad++
			if bad <= 10 {
				d := a.Explain(ctx, dataward.Actor{ID: r.user, Tenant: r.tenant}, r.act, r.obj)
				t.Errorf("%+v: dataward %v (%s, %s), Casbin %v", r, got, d.Reason, d.Rule, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d requests disagree", bad, len(reqs))
	}
}

// randomRequests makes n requests over users user0..user<users+10> (some
// unknown), objects data0..data<objs+2>, the actions read and write (write
// unknown to the Casbin-shaped policies), and the given tenants.
func randomRequests(rng *rand.Rand, n, users, objs int, tenants []string) []request {
	reqs := make([]request, n)
	for i := range reqs {
		reqs[i] = request{
			user: fmt.Sprint("user", rng.IntN(users+10)),
			obj:  fmt.Sprint("data", rng.IntN(objs+2)),
			act:  [2]string{"read", "write"}[rng.IntN(2)],
		}
		if len(tenants) > 0 {
			reqs[i].tenant = tenants[rng.IntN(len(tenants))]
		}
	}
	return reqs
}

// hierarchy is a random policy with role inheritance and deny rules, in
// both engines: roles role<k> in four levels, each inheriting up to two
// roles of the level below (Casbin's g(role, parent)); users holding up to
// three roles; allow and deny rules on roles. Casbin's model gives deny
// precedence, as dataward does.
//
// It returns dataward's policy and Casbin's model, p rules and g rules.
func hierarchy(rng *rand.Rand) (pol *rbac.Policy, model string, p, g [][]string) {
	const (
		roles   = 24
		users   = 40
		objs    = 12
		rules   = 40
		denies  = 8
		perRole = roles / 4
	)
	model = `[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`
	pol = &rbac.Policy{Actions: []string{"read", "write"}}
	for k := range roles {
		r := rbac.Role{Name: fmt.Sprint("role", k)}
		if level := k / perRole; level < 3 {
			for range rng.IntN(3) {
				parent := fmt.Sprint("role", (level+1)*perRole+rng.IntN(perRole))
				if !slices.Contains(r.Inherits, parent) {
					r.Inherits = append(r.Inherits, parent)
					g = append(g, []string{r.Name, parent})
				}
			}
		}
		pol.Roles = append(pol.Roles, r)
	}
	for i := range rules + denies {
		k := rng.IntN(roles)
		perm := rbac.Permission{Action: [2]string{"read", "write"}[rng.IntN(2)], Resource: fmt.Sprint("data", rng.IntN(objs))}
		eft := "allow"
		if i >= rules {
			eft = "deny"
			pol.Roles[k].Deny = append(pol.Roles[k].Deny, perm)
		} else {
			pol.Roles[k].Allow = append(pol.Roles[k].Allow, perm)
		}
		p = append(p, []string{pol.Roles[k].Name, perm.Resource, perm.Action, eft})
	}
	for j := range users {
		a := rbac.Assignment{User: fmt.Sprint("user", j)}
		for range 1 + rng.IntN(3) {
			role := fmt.Sprint("role", rng.IntN(roles))
			if !slices.Contains(a.Roles, role) {
				a.Roles = append(a.Roles, role)
				g = append(g, []string{a.User, role})
			}
		}
		pol.Assignments = append(pol.Assignments, a)
	}
	return pol, model, p, g
}

// TestAgreesWithCasbin runs over a million random requests through both
// engines, on Casbin's benchmark policies (with and without tenants) and
// on random policies with role hierarchies and deny rules, and fails on
// any disagreement. With -short it runs a tenth of them.
func TestAgreesWithCasbin(t *testing.T) {
	scale := 1
	if testing.Short() {
		scale = 10
	}
	total := 0
	for _, c := range []struct {
		s Size
		n int
	}{{Small, 40000}, {Medium, 4000}, {Large, 400}, {Tenants, 4000}} {
		t.Run(c.s.Name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(c.s.R)))
			a := newDataward(t, c.s.Policy())
			p, g := c.s.CasbinRules()
			e := newCasbin(t, casbinModelOf(c.s), p, g)
			var tenants []string
			if c.s.Tenants > 0 {
				tenants = []string{"tenant0", "tenant1", "tenant9", "tenant10", ""}
			}
			reqs := randomRequests(rng, c.n/scale, c.s.U, c.s.R/10, tenants)
			// The benchmark requests themselves.
			user, tenant, allow, deny := c.s.Requests()
			reqs = append(reqs, request{user, tenant, allow, "read"}, request{user, tenant, deny, "read"})
			agree(t, a, e, c.s.Tenants > 0, reqs)
		})
		total += c.n / scale
	}
	const policies, perPolicy = 40, 24000
	for w := range 2 {
		t.Run(fmt.Sprint("hierarchy-", w), func(t *testing.T) {
			t.Parallel()
			for i := w; i < policies; i += 2 {
				rng := rand.New(rand.NewPCG(2, uint64(i)))
				pol, model, p, g := hierarchy(rng)
				e := newCasbin(t, model, p, g)
				a := newDataward(t, pol)
				agree(t, a, e, false, randomRequests(rng, perPolicy/scale, 40, 12, nil))
			}
		})
	}
	total += policies * perPolicy / scale
	t.Logf("%d random requests", total)
	if scale == 1 && total < 1_000_000 {
		t.Fatalf("only %d requests", total)
	}
}

// TestDenyOverrideAndHierarchy checks fixed cases in both engines: a deny
// of one role overriding the allow of another, and an allow reached
// through five levels of inheritance.
func TestDenyOverrideAndHierarchy(t *testing.T) {
	_, model, _, _ := hierarchy(rand.New(rand.NewPCG(0, 0)))
	p := [][]string{
		{"reader", "data1", "read", "allow"},
		{"blocked", "data1", "read", "deny"},
		{"l5", "data2", "read", "allow"},
	}
	g := [][]string{
		{"alice", "reader"}, {"bob", "reader"}, {"bob", "blocked"},
		{"l1", "l2"}, {"l2", "l3"}, {"l3", "l4"}, {"l4", "l5"}, {"carol", "l1"},
	}
	e := newCasbin(t, model, p, g)
	pol := &rbac.Policy{
		Actions: []string{"read"},
		Roles: []rbac.Role{
			{Name: "reader", Allow: []rbac.Permission{{Action: "read", Resource: "data1"}}},
			{Name: "blocked", Deny: []rbac.Permission{{Action: "read", Resource: "data1"}}},
			{Name: "l1", Inherits: []string{"l2"}}, {Name: "l2", Inherits: []string{"l3"}},
			{Name: "l3", Inherits: []string{"l4"}}, {Name: "l4", Inherits: []string{"l5"}},
			{Name: "l5", Allow: []rbac.Permission{{Action: "read", Resource: "data2"}}},
		},
		Assignments: []rbac.Assignment{
			{User: "alice", Roles: []string{"reader"}}, {User: "bob", Roles: []string{"reader", "blocked"}},
			{User: "carol", Roles: []string{"l1"}},
		},
	}
	a := newDataward(t, pol)
	reqs := []request{
		{user: "alice", obj: "data1", act: "read"}, // allowed
		{user: "bob", obj: "data1", act: "read"},   // denied: the deny overrides
		{user: "carol", obj: "data2", act: "read"}, // allowed through l1 -> ... -> l5
		{user: "carol", obj: "data1", act: "read"}, // denied
	}
	agree(t, a, e, false, reqs)
	ctx := context.Background()
	want := []bool{true, false, true, false}
	for i, r := range reqs {
		if got := a.Check(ctx, dataward.Actor{ID: r.user}, r.act, r.obj); got != want[i] {
			t.Errorf("%+v: got %v, want %v", r, got, want[i])
		}
	}
	d := a.Explain(ctx, dataward.Actor{ID: "carol"}, "read", "data2")
	if got := strings.Join(d.Path, ">"); got != "l1>l2>l3>l4>l5" {
		t.Errorf("path %s", got)
	}
}
