// Command rbac is a small admin API guarded by package rbac: a support
// agent sees customers with their e-mail and phone masked, a manager sees
// them in clear, and a support agent takes break-glass access for 15
// minutes, which the audit log records. Run it with
//
//	go run ./examples/rbac
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/rbac"
	"github.com/dataward/dataward/sqlstore"
)

// policy is the host's policy file: roles, what they may do, who holds
// them.
const policy = `
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
  - name: emergency-contact
    description: reach a customer in an emergency
    break_glass: true
    allow:
      - {action: reveal, resource: contact.phone}
assignments:
  - {user: sam, tenant: shop, roles: [support-agent]}
  - {user: mia, tenant: shop, roles: [manager]}
`

type customer struct {
	ID    string
	Name  string
	Email string
	Phone string
}

var customers = []customer{
	{"cust-1001", "Jane Doe", "jane.doe@example.com", "+27 82 555 0123"},
	{"cust-1002", "Sipho Dlamini", "sipho@example.org", "+27 71 555 0199"},
}

// api is the admin API.
type api struct {
	authz *rbac.Authorizer
	audit *audit.Logger
}

func (a *api) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /customers", a.authz.Require("read", "customer")(http.HandlerFunc(a.list)))
	mux.Handle("DELETE /customers/{id}", a.authz.Require("delete", "customer")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.HandleFunc("POST /break-glass", a.breakGlass)
	return authenticate(mux)
}

// list shows each customer, with the contact details the caller may see in
// clear shown in clear and the others masked.
func (a *api) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	out := make([]customer, len(customers))
	for i, c := range customers {
		c.Email = pii.Show(ctx, a.authz, "contact.email", pii.MaskKindEmail, c.Email)
		c.Phone = pii.Show(ctx, a.authz, "contact.phone", pii.MaskKindPhone, c.Phone)
		out[i] = c
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// breakGlass grants the caller emergency access for 15 minutes.
func (a *api) breakGlass(w http.ResponseWriter, r *http.Request) {
	g, err := a.authz.BreakGlass(r.Context(), "emergency-contact", r.URL.Query().Get("reason"), 15*time.Minute)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "break-glass granted until %s\n", g.Expires.Format(time.Kitchen))
}

// authenticate stands in for the host's login: the user is named by a
// header, in tenant "shop".
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-User"); id != "" {
			r = r.WithContext(dataward.WithActor(r.Context(), dataward.Actor{ID: id, Kind: dataward.ActorUser, Tenant: "shop"}))
		}
		next.ServeHTTP(w, r)
	})
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dataward-rbac-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlstore.Open(ctx, "sqlite:"+dir+"/dataward.db", nil)
	if err != nil {
		return err
	}
	defer db.Close()
	alog, err := audit.New(db.AuditStore(), &audit.Options{HashKey: []byte("example hash key, not for production")})
	if err != nil {
		return err
	}
	defer alog.Close(ctx)
	p, err := rbac.ParseYAML([]byte(policy))
	if err != nil {
		return err
	}
	authz, err := rbac.New(p, &rbac.Options{Store: db.RBACStore(), Audit: alog})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = authz.Run(runCtx) }() // follows grants made by other processes

	srv := httptest.NewServer((&api{authz: authz, audit: alog}).routes())
	defer srv.Close()
	call := func(user, method, path string) error {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
		if err != nil {
			return err
		}
		if user != "" {
			req.Header.Set("X-User", user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		fmt.Printf("%-4s %-6s %-45s -> %d %s", user, method, path, resp.StatusCode, body)
		if len(body) == 0 {
			fmt.Println()
		}
		return nil
	}
	steps := []struct{ user, method, path string }{
		{"sam", "GET", "/customers"},              // masked
		{"mia", "GET", "/customers"},              // in clear
		{"mia", "DELETE", "/customers/cust-1001"}, // denied by rule, audited
		{"", "GET", "/customers"},                 // no actor: denied, audited
		{"sam", "POST", "/break-glass?reason=" + "customer+unreachable%2C+ticket+4711"},
		{"sam", "GET", "/customers"}, // phone in clear for 15 minutes
	}
	for _, s := range steps {
		if err := call(s.user, s.method, s.path); err != nil {
			return err
		}
	}

	d := authz.Explain(ctx, dataward.Actor{ID: "mia", Tenant: "shop"}, "delete", "customer")
	fmt.Printf("\nExplain(mia, delete, customer): allowed=%v reason=%s rule=%q path=%v\n", d.Allowed, d.Reason, d.Rule, d.Path)
	d = authz.Explain(ctx, dataward.Actor{ID: "sam", Tenant: "shop"}, "reveal", "contact.phone")
	fmt.Printf("Explain(sam, reveal, contact.phone): allowed=%v reason=%s source=%s\n", d.Allowed, d.Reason, d.Source)

	fmt.Println("\nThe audit log:")
	evs, _, err := alog.Query(ctx, audit.Query{})
	if err != nil {
		return err
	}
	for _, e := range evs {
		fmt.Printf("  %-22s %-8s reason=%q\n", e.Action, e.Outcome, e.Reason)
	}
	fmt.Println("Done.")
	return nil
}
