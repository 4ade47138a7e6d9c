package audit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// exampleClock stops time, so that the examples print the same every run.
var exampleClock = dataward.ClockFunc(func() time.Time {
	return time.Date(2025, 3, 4, 9, 30, 0, 0, time.UTC)
})

// The middleware records one event per request, naming the route pattern
// rather than the concrete path, and never the query string.
func ExampleMiddleware() {
	ctx := context.Background()
	logger, err := audit.New(audit.NewMemStore(), &audit.Options{
		HashKey: []byte("example hash key: use 32 random bytes"), // from a secret store in production
		Clock:   exampleClock,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer logger.Close(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, _ := dataward.ActorFrom(r.Context())
		if a.ID == "" {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "customer %s", r.PathValue("id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})

	audited := audit.Middleware(logger, &audit.MiddlewareOptions{
		Skip: func(r *http.Request) bool { return r.URL.Path == "/healthz" },
	})(mux)
	// The host's own authentication puts the actor in the context; the
	// audit middleware goes inside it, so that it sees the actor.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Staff-Id"); id != "" {
			r = r.WithContext(dataward.WithActor(r.Context(), dataward.Actor{ID: id, Kind: dataward.ActorUser}))
		}
		audited.ServeHTTP(w, r)
	})

	for i, staff := range []string{"staff-7", ""} {
		r := httptest.NewRequest("GET", "/customers/cust-42?email=alice%40example.com", nil)
		r.Header.Set("X-Staff-Id", staff)
		r.Header.Set("X-Request-Id", fmt.Sprint("req-", i+1))
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	events, _, err := logger.Query(ctx, audit.Query{Action: audit.HTTPAction})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		var status string
		for _, a := range e.Metadata {
			if a.Key == audit.MetaHTTPStatus {
				status = a.Value
			}
		}
		fmt.Printf("%q by %q: %s %s (%s)\n", e.Resource.ID, e.Actor.ID, status, e.Outcome, e.RequestID)
	}
	// Output:
	// "GET /customers/{id}" by "staff-7": 200 success (req-1)
	// "GET /customers/{id}" by "": 401 denied (req-2)
}

// A report for the data protection officer: the events about one customer,
// as CSV. The subject and the staff member's address are keyed hashes, as
// the log stores them; the masked change is readable because the log was
// told to keep changes Public (by default they are encrypted under the
// customer's key, see Options.Sealer).
func ExampleWriteCSV() {
	ctx := context.Background()
	logger, err := audit.New(audit.NewMemStore(), &audit.Options{
		HashKey: []byte("example hash key: use 32 random bytes"),
		Fields:  map[audit.Field]audit.Sensitivity{audit.FieldChanges: audit.Public},
		Clock:   exampleClock,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer logger.Close(ctx)

	staff := dataward.WithActor(ctx, dataward.Actor{ID: "staff-7", Kind: dataward.ActorUser, SourceIP: "198.51.100.7"})
	err = logger.Record(staff, audit.Event{
		ID:       "0195b7c2-8a40-7000-8000-000000000001", // normally left empty: a fresh UUIDv7
		Action:   "customer.update",
		Subject:  "cust-42",
		Resource: audit.Resource{Type: "customer", ID: "cust-42"},
		Changes:  []audit.Change{{Field: "email", Before: "a***@example.com", After: "z***@example.com"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	events, _, err := logger.Query(ctx, audit.Query{Subject: "cust-42"})
	if err != nil {
		log.Fatal(err)
	}
	if err := audit.WriteCSV(os.Stdout, events); err != nil {
		log.Fatal(err)
	}
	// Output:
	// index,id,time,class,action,outcome,reason,actor_id,actor_kind,actor_tenant,actor_roles,actor_ip,actor_user_agent,subject,resource_type,resource_id,request_id,trace_id,changes,metadata
	// 0,0195b7c2-8a40-7000-8000-000000000001,2025-03-04T09:30:00Z,,customer.update,success,,staff-7,user,,,h1:fKZ9s0IHqW0vd2jgsVvdpQ,,h1:QucWCK1HnhgDPbrZ4MY1-A,customer,cust-42,,,"[{""field"":""email"",""before"":""a***@example.com"",""after"":""z***@example.com""}]",
}
