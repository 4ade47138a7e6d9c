package rbac_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/rbac"
)

// casbinShaped returns the policy of Casbin's own RBAC benchmarks: roles
// group<i> allowed read on data<i/10> for i < r, and user<j> holding
// group<j/10> for j < u. (bench/ compares it with Casbin itself.)
func casbinShaped(r, u int) *rbac.Policy {
	p := &rbac.Policy{Roles: make([]rbac.Role, r), Assignments: make([]rbac.Assignment, u)}
	for i := range r {
		p.Roles[i] = rbac.Role{Name: fmt.Sprint("group", i), Allow: []rbac.Permission{{Action: "read", Resource: fmt.Sprint("data", i/10)}}}
	}
	for j := range u {
		p.Assignments[j] = rbac.Assignment{User: fmt.Sprint("user", j), Roles: []string{fmt.Sprint("group", j/10)}}
	}
	return p
}

// BenchmarkCheck measures Check on policies of growing size: its cost
// should hardly change, and it allocates nothing.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	for _, size := range []struct {
		name string
		r, u int
	}{{"small", 100, 1000}, {"medium", 1000, 10000}, {"large", 10000, 100000}} {
		a, err := rbac.New(casbinShaped(size.r, size.u), nil)
		if err != nil {
			b.Fatal(err)
		}
		actor := dataward.Actor{ID: fmt.Sprint("user", size.u/2+1)}
		for _, req := range []struct {
			name     string
			resource string
			want     bool
		}{{"allow", fmt.Sprint("data", (size.u/2+1)/100), true}, {"deny", fmt.Sprint("data", size.r/10-1), false}} {
			b.Run(size.name+"/"+req.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if a.Check(ctx, actor, "read", req.resource) != req.want {
						b.Fatal("wrong decision")
					}
				}
			})
		}
	}
}

// BenchmarkCheckPatterns measures Check through inheritance, wildcards,
// prefixes and the context's actor.
func BenchmarkCheckPatterns(b *testing.B) {
	a := newCRM(b, nil)
	ctx := dataward.WithActor(context.Background(), user("acme", "max"))
	b.Run("inherited", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.Check(ctx, dataward.Actor{}, "read", "customer")
		}
	})
	b.Run("prefix", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.MayReveal(ctx, "contact.phone.mobile")
		}
	})
	b.Run("deny-override", func(b *testing.B) {
		b.ReportAllocs()
		aud := user("acme", "aud")
		for b.Loop() {
			a.Check(ctx, aud, "read", "contact.email")
		}
	})
}

func BenchmarkExplain(b *testing.B) {
	a := newCRM(b, nil)
	ctx := context.Background()
	max := user("acme", "max")
	b.ReportAllocs()
	for b.Loop() {
		a.Explain(ctx, max, "read", "customer")
	}
}

// BenchmarkCompile measures New on the large Casbin-shaped policy (10,000
// roles, 100,000 users), without parsing.
func BenchmarkCompile(b *testing.B) {
	p := casbinShaped(10000, 100000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rbac.New(p, nil); err != nil {
			b.Fatal(err)
		}
	}
}
