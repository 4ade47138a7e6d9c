package rbac

import (
	"errors"
	"net/http"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// Require returns middleware that lets a request through only if the
// [dataward.Actor] of its context (put there by the host's authentication)
// may perform action on resource. Any other request gets 403 Forbidden,
// with a body that says nothing of the policy, and is recorded in the audit
// log (Options.Audit, if set) as an event "rbac.deny" with outcome denied
// and the decision's reason code.
func (a *Authorizer) Require(action, resource string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if a.Check(ctx, dataward.Actor{}, action, resource) {
				next.ServeHTTP(w, r)
				return
			}
			if a.audit != nil {
				d := a.Explain(ctx, dataward.Actor{}, action, resource)
				e := audit.Event{
					Action:   "rbac.deny",
					Outcome:  audit.Denied,
					Reason:   string(d.Reason),
					Resource: audit.Resource{Type: resource},
					Metadata: []audit.Attr{{Key: "action", Value: action}, {Key: "http.method", Value: r.Method}},
				}
				if r.Pattern != "" {
					// The route, not the path, which may hold personal data.
					e.Metadata = append(e.Metadata, audit.Attr{Key: "http.route", Value: r.Pattern})
				}
				if d.Rule.Role != "" {
					e.Metadata = append(e.Metadata, audit.Attr{Key: "rule", Value: d.Rule.String()})
				}
				if err := a.audit.Record(ctx, e); err != nil && a.onError != nil {
					a.onError(errors.Join(errors.New("rbac: recording a denial"), err))
				}
			}
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("Forbidden\n"))
		})
	}
}
