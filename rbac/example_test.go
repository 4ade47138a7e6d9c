package rbac_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/rbac"
)

const examplePolicy = `
actions: [read, update, delete, reveal]
roles:
  - name: support-agent
    allow:
      - {action: read, resource: customer}
  - name: manager
    inherits: [support-agent]
    allow:
      - {action: "*", resource: customer}
      - {action: reveal, resource: "contact.*"}
    deny:
      - {action: delete, resource: customer}
  - name: emergency
    break_glass: true
    allow:
      - {action: reveal, resource: "*"}
assignments:
  - {user: ann, roles: [support-agent]}
  - {user: max, roles: [manager]}
`

// A check is a few map lookups; Explain says why.
func ExampleAuthorizer_Explain() {
	p, err := rbac.ParseYAML([]byte(examplePolicy))
	if err != nil {
		log.Fatal(err)
	}
	authz, err := rbac.New(p, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	max := dataward.Actor{ID: "max"}
	fmt.Println(authz.Check(ctx, max, "update", "customer"))
	for _, action := range []string{"read", "delete", "export"} {
		d := authz.Explain(ctx, max, action, "customer")
		fmt.Println(d.Allowed, d.Reason, d.Rule, d.Path)
	}
	// Output:
	// true
	// true allowed allow read customer (role support-agent) [manager support-agent]
	// false denied deny delete customer (role manager) [manager]
	// false unknown_action  []
}

// Validation lists every problem of a policy at once, with its place.
func ExampleParseYAML() {
	_, err := rbac.ParseYAML([]byte(`
roles:
  - name: a
    inherits: [b]
  - name: b
    inherits: [a, c]
    allow:
      - {action: read, resource: "cust*"}
`))
	for _, p := range err.(*dataward.ValidationError).Problems {
		fmt.Println(p.Field+":", p.Message)
	}
	// Output:
	// roles[1].allow[0].resource (line 8, column 34): "cust*" is not a valid resource pattern: use a name, "prefix.*" or "*"
	// roles[1].inherits[1] (line 6, column 19): names unknown role "c"
	// roles[0].inherits (line 4, column 15): forms a cycle: a -> b -> a
}

// The Authorizer is the pii.Revealer that decides whether a field is shown
// in clear or masked.
func ExampleAuthorizer_MayReveal() {
	p, err := rbac.ParseYAML([]byte(examplePolicy))
	if err != nil {
		log.Fatal(err)
	}
	authz, err := rbac.New(p, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"ann", "max"} {
		ctx := dataward.WithActor(context.Background(), dataward.Actor{ID: id})
		fmt.Println(id, pii.Show(ctx, authz, "contact.email", pii.MaskKindEmail, "jane.doe@example.com"))
	}
	// Output:
	// ann j***e@example.com
	// max jane.doe@example.com
}

// Break-glass access is taken for a stated reason and a short time, and
// recorded in the audit log.
func ExampleAuthorizer_BreakGlass() {
	alog, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: make([]byte, 32)})
	if err != nil {
		log.Fatal(err)
	}
	p, err := rbac.ParseYAML([]byte(examplePolicy))
	if err != nil {
		log.Fatal(err)
	}
	authz, err := rbac.New(p, &rbac.Options{Audit: alog})
	if err != nil {
		log.Fatal(err)
	}
	ctx := dataward.WithActor(context.Background(), dataward.Actor{ID: "ann"})
	fmt.Println(authz.MayReveal(ctx, "contact.phone"))
	g, err := authz.BreakGlass(ctx, "emergency", "customer locked out, ticket 4711", 15*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(authz.MayReveal(ctx, "contact.phone"), g.Expires.Sub(g.Created))
	evs, _, err := alog.Query(ctx, audit.Query{})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range evs {
		fmt.Println(e.Action, e.Reason)
	}
	// Output:
	// false
	// true 15m0s
	// rbac.break_glass customer locked out, ticket 4711
	// rbac.break_glass.use customer locked out, ticket 4711
}

// Require guards a handler: 403 for anyone without the permission.
func ExampleAuthorizer_Require() {
	p, err := rbac.ParseYAML([]byte(examplePolicy))
	if err != nil {
		log.Fatal(err)
	}
	authz, err := rbac.New(p, nil) // with Options.Audit, every denial is recorded
	if err != nil {
		log.Fatal(err)
	}
	h := authz.Require("update", "customer")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "updated")
	}))
	for _, id := range []string{"ann", "max"} {
		req := httptest.NewRequest(http.MethodPut, "/customers/42", nil)
		req = req.WithContext(dataward.WithActor(req.Context(), dataward.Actor{ID: id}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(id, rec.Code)
	}
	// Output:
	// ann 403
	// max 200
}
