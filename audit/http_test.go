package audit_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// newHTTPLogger returns a Logger on a MemStore that keeps actor addresses
// Public, so that tests can read them back.
func newHTTPLogger(t *testing.T, opts *audit.Options) *audit.Logger {
	t.Helper()
	var o audit.Options
	if opts != nil {
		o = *opts
	}
	o.HashKey = []byte("0123456789abcdef0123456789abcdef")
	if o.Fields == nil {
		o.Fields = map[audit.Field]audit.Sensitivity{audit.FieldActorIP: audit.Public}
	}
	l, err := audit.New(audit.NewMemStore(), &o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// allEvents returns every event in the log.
func allEvents(t *testing.T, l *audit.Logger) []audit.StoredEvent {
	t.Helper()
	events, _, err := l.Query(context.Background(), audit.Query{Limit: 10_000})
	require.NoError(t, err)
	return events
}

// meta returns the value of a metadata entry, or "<none>".
func meta(e audit.StoredEvent, key string) string {
	for _, a := range e.Metadata {
		if a.Key == key {
			return a.Value
		}
	}
	return "<none>"
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  string
		outcome audit.Outcome
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, "200", audit.Success},
		{"body only", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, "200", audit.Success},
		{"created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }, "201", audit.Success},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, "302", audit.Success},
		{"early hints first", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, "204", audit.Success},
		{"bad request", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadRequest) }, "400", audit.Failure},
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }, "401", audit.Denied},
		{"forbidden", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }, "403", audit.Denied},
		{"not found", http.NotFound, "404", audit.Failure},
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, "500", audit.Failure},
		{"second status ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			w.WriteHeader(http.StatusOK) // superfluous: net/http keeps 403
		}, "403", audit.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newHTTPLogger(t, nil)
			h := audit.Middleware(l, nil)(tt.handler)
			serve(h, httptest.NewRequest(http.MethodPost, "/things", strings.NewReader("12345")))
			events := allEvents(t, l)
			require.Len(t, events, 1)
			e := events[0]
			assert.Equal(t, audit.HTTPAction, e.Action)
			assert.Equal(t, audit.Resource{Type: "http.route", ID: "/things"}, e.Resource)
			assert.Equal(t, tt.outcome, e.Outcome)
			assert.Equal(t, tt.status, meta(e, audit.MetaHTTPStatus))
			assert.Equal(t, "POST", meta(e, audit.MetaHTTPMethod))
			assert.Equal(t, "5", meta(e, audit.MetaHTTPRequestBytes))
			assert.NotEqual(t, "<none>", meta(e, audit.MetaHTTPLatency))
		})
	}
}

func TestMiddlewareOptions(t *testing.T) {
	l := newHTTPLogger(t, &audit.Options{Policies: map[string]audit.Policy{"http": audit.FailClosed}})
	h := audit.Middleware(l, &audit.MiddlewareOptions{
		Skip:            func(r *http.Request) bool { return r.URL.Path == "/healthz" },
		Class:           "http",
		Action:          "api.call",
		RequestIDHeader: "X-Correlation-Id",
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	serve(h, httptest.NewRequest("GET", "/healthz", nil))
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("X-Correlation-Id", "req-1")
	r.Header.Set(audit.DefaultRequestIDHeader, "not this one")
	serve(h, r)
	serve(h, httptest.NewRequest("GET", "/healthz", nil))

	events := allEvents(t, l)
	require.Len(t, events, 1, "health checks are skipped")
	assert.Equal(t, "api.call", events[0].Action)
	assert.Equal(t, "http", events[0].Class)
	assert.Equal(t, "req-1", events[0].RequestID)
	assert.Equal(t, "/orders", events[0].Resource.ID)
}

func TestMiddlewareDefaultRequestID(t *testing.T) {
	l := newHTTPLogger(t, nil)
	h := audit.Middleware(l, nil)(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "abc-123")
	serve(h, r)
	assert.Equal(t, "abc-123", allEvents(t, l)[0].RequestID)
}

// With a ServeMux inside, the pattern is recorded, not the concrete path,
// which may identify someone.
func TestMiddlewareRecordsPattern(t *testing.T) {
	l := newHTTPLogger(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("id"))
	})
	h := audit.Middleware(l, nil)(mux)

	w := serve(h, httptest.NewRequest("GET", "/customers/cust-42", nil))
	assert.Equal(t, "cust-42", w.Body.String())
	serve(h, httptest.NewRequest("GET", "/nowhere", nil))

	events := allEvents(t, l)
	require.Len(t, events, 2)
	assert.Equal(t, "GET /customers/{id}", events[0].Resource.ID)
	assert.Equal(t, "7", meta(events[0], audit.MetaHTTPResponseBytes))
	assert.NotContains(t, string(events[0].Data), "cust-42")
	assert.Equal(t, "/nowhere", events[1].Resource.ID, "no pattern matched: the path")
	assert.Equal(t, audit.Failure, events[1].Outcome)
}

func TestMiddlewareCountsBodyRead(t *testing.T) {
	l := newHTTPLogger(t, nil)
	h := audit.Middleware(l, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	r := httptest.NewRequest("PUT", "/upload", io.MultiReader(strings.NewReader("abc"), strings.NewReader("de")))
	r.ContentLength = -1 // sent chunked
	serve(h, r)
	assert.Equal(t, "5", meta(allEvents(t, l)[0], audit.MetaHTTPRequestBytes))
}

func TestMiddlewareActor(t *testing.T) {
	l := newHTTPLogger(t, nil)
	h := audit.Middleware(l, nil)(http.NotFoundHandler())

	r := httptest.NewRequest("GET", "/a", nil)
	r.RemoteAddr = "[2001:db8::7]:51000"
	r.Header.Set("User-Agent", "support-console/2.1")
	actor := dataward.Actor{ID: "staff-7", Kind: dataward.ActorUser, Tenant: "acme", Roles: []string{"support"}}
	serve(h, r.WithContext(dataward.WithActor(r.Context(), actor)))

	// An actor that knows its address (set by the host from a trusted
	// proxy header) keeps it.
	r = httptest.NewRequest("GET", "/b", nil)
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	actor = dataward.Actor{ID: "svc-1", Kind: dataward.ActorService, SourceIP: "198.51.100.20", UserAgent: "batch/1"}
	serve(h, r.WithContext(dataward.WithActor(r.Context(), actor)))

	// No actor: an anonymous request still names its address.
	r = httptest.NewRequest("GET", "/c", nil)
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	serve(h, r)

	events := allEvents(t, l)
	require.Len(t, events, 3)
	assert.Equal(t, audit.Actor{ID: "staff-7", Kind: dataward.ActorUser, Tenant: "acme", Roles: []string{"support"},
		SourceIP: "2001:db8::7", UserAgent: "support-console/2.1"}, events[0].Actor)
	assert.Equal(t, audit.Actor{ID: "svc-1", Kind: dataward.ActorService, SourceIP: "198.51.100.20", UserAgent: "batch/1"}, events[1].Actor)
	assert.Equal(t, audit.Actor{SourceIP: "192.0.2.1"}, events[2].Actor, "httptest's address; X-Forwarded-For is not trusted")
}

func TestMiddlewareHashesAddressByDefault(t *testing.T) {
	l := newHTTPLogger(t, &audit.Options{Fields: map[audit.Field]audit.Sensitivity{}})
	serve(audit.Middleware(l, nil)(http.NotFoundHandler()), httptest.NewRequest("GET", "/", nil))
	e := allEvents(t, l)[0]
	assert.True(t, strings.HasPrefix(e.Actor.SourceIP, audit.HashPrefix))
	assert.NotContains(t, string(e.Data), "192.0.2.1")
}

// Query strings carry personal data; they are never recorded.
func TestMiddlewareDropsQueryString(t *testing.T) {
	l := newHTTPLogger(t, nil)
	h := audit.Middleware(l, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Query().Get("email"))
	}))
	w := serve(h, httptest.NewRequest("GET", "/search?email=alice%40example.com&name=Alice+Ndlovu", nil))
	assert.Equal(t, "alice@example.com", w.Body.String(), "the handler still sees the query")

	e := allEvents(t, l)[0]
	assert.Equal(t, "/search", e.Resource.ID)
	var report strings.Builder
	require.NoError(t, audit.WriteJSONLines(&report, []audit.StoredEvent{e}))
	for _, leak := range []string{"alice", "Alice", "Ndlovu", "email="} {
		assert.NotContains(t, string(e.Data), leak)
		assert.NotContains(t, report.String(), leak)
	}
}

// A malformed request still makes a valid event.
func TestMiddlewareClipsRequestValues(t *testing.T) {
	l := newHTTPLogger(t, nil)
	var errs []error
	h := audit.Middleware(l, &audit.MiddlewareOptions{OnError: func(_ *http.Request, err error) { errs = append(errs, err) }})(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.Path = "/é" + strings.Repeat("x", 2*audit.MaxFieldLen) + "\xff"
	r.Header.Set("User-Agent", strings.Repeat("é", audit.MaxFieldLen))
	r.Header.Set("X-Request-Id", "bad\xffid")
	serve(h, r)
	require.Empty(t, errs)
	e := allEvents(t, l)[0]
	assert.LessOrEqual(t, len(e.Resource.ID), audit.MaxFieldLen)
	assert.True(t, strings.HasPrefix(e.Resource.ID, "/éxxx"))
	assert.Len(t, e.Actor.UserAgent, audit.MaxFieldLen, "cut between two-byte runes")
	assert.Equal(t, "bad\uFFFDid", e.RequestID)
}

func TestMiddlewarePanic(t *testing.T) {
	l := newHTTPLogger(t, nil)
	h := audit.Middleware(l, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom")
	}))
	func() {
		defer func() { assert.Equal(t, "boom", recover(), "the panic goes on") }()
		serve(h, httptest.NewRequest("DELETE", "/customers/1", nil))
	}()
	events := allEvents(t, l)
	require.Len(t, events, 1)
	assert.Equal(t, audit.Failure, events[0].Outcome)
	assert.Equal(t, "500", meta(events[0], audit.MetaHTTPStatus))
	assert.Equal(t, "the handler panicked", events[0].Reason)
}

func TestMiddlewareOnError(t *testing.T) {
	l := newHTTPLogger(t, nil)
	var got error
	h := audit.Middleware(l, &audit.MiddlewareOptions{OnError: func(r *http.Request, err error) { got = err }})(http.NotFoundHandler())
	require.NoError(t, l.Close(context.Background()))
	w := serve(h, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusNotFound, w.Code, "the response is unaffected")
	assert.ErrorIs(t, got, audit.ErrClosed)
}

func TestMiddlewareRejectsBadOptions(t *testing.T) {
	l := newHTTPLogger(t, nil)
	assert.PanicsWithValue(t, "audit: Middleware: the Logger is nil", func() { audit.Middleware(nil, nil) })
	assert.Panics(t, func() { audit.Middleware(l, &audit.MiddlewareOptions{Action: "http request"}) })
	assert.Panics(t, func() { audit.Middleware(l, &audit.MiddlewareOptions{Class: "bad\xff"}) })
}

// The wrapped ResponseWriter keeps what the server's offers: streaming,
// deadlines, hijacking and sendfile.
func TestMiddlewareKeepsResponseWriterFeatures(t *testing.T) {
	l := newHTTPLogger(t, nil)
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no Flusher", 500)
			return
		}
		io.WriteString(w, "first\n")
		f.Flush()
		<-release // the client must read "first" before this returns
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("GET /deadline", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil { // found through Unwrap
			http.Error(w, err.Error(), 500)
			return
		}
		if err := rc.Flush(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /copy", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			http.Error(w, "no ReaderFrom", 500)
			return
		}
		io.Copy(w, strings.NewReader(strings.Repeat("z", 10_000)))
	})
	mux.HandleFunc("GET /hijack", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no Hijacker", 500)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		buf.Flush()
	})
	srv := httptest.NewServer(audit.Middleware(l, nil)(mux))
	defer srv.Close()
	defer unblock() // runs before srv.Close, which waits for the handler, should the test fail early

	resp, err := http.Get(srv.URL + "/stream")
	require.NoError(t, err)
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "flushed before the handler returned")
	unblock()
	rest, _ := io.ReadAll(br)
	resp.Body.Close()
	assert.Equal(t, "second\n", string(rest))

	for path, want := range map[string]string{"/deadline": "ok", "/copy": strings.Repeat("z", 10_000), "/hijack": "hijacked"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err, path)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Equal(t, want, string(body), path)
	}

	// The server records once the handler returns; wait for the last one.
	var events []audit.StoredEvent
	require.Eventually(t, func() bool { events = allEvents(t, l); return len(events) == 4 }, 5*time.Second, 5*time.Millisecond)
	byRoute := map[string]audit.StoredEvent{}
	for _, e := range events {
		byRoute[e.Resource.ID] = e
	}
	assert.Equal(t, "13", meta(byRoute["GET /stream"], audit.MetaHTTPResponseBytes))
	assert.Equal(t, "10000", meta(byRoute["GET /copy"], audit.MetaHTTPResponseBytes))
	assert.Equal(t, "200", meta(byRoute["GET /deadline"], audit.MetaHTTPStatus))
	assert.Equal(t, "101", meta(byRoute["GET /hijack"], audit.MetaHTTPStatus))
	assert.Equal(t, audit.Success, byRoute["GET /hijack"].Outcome)
}

// A handler behind the middleware sees httptest's ResponseRecorder
// features too (Flushed), and a writer without Flush or Hijack reports so.
func TestMiddlewareWithoutOptionalInterfaces(t *testing.T) {
	l := newHTTPLogger(t, nil)
	var flushErr, hijackErr error
	h := audit.Middleware(l, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		flushErr = rc.Flush()
		_, _, hijackErr = rc.Hijack()
	}))
	w := serve(h, httptest.NewRequest("GET", "/", nil))
	assert.NoError(t, flushErr)
	assert.True(t, w.Flushed)
	assert.True(t, errors.Is(hijackErr, http.ErrNotSupported), fmt.Sprint(hijackErr))

	bare := struct{ http.ResponseWriter }{httptest.NewRecorder()} // hides Flush
	h.ServeHTTP(bare, httptest.NewRequest("GET", "/", nil))
	assert.ErrorIs(t, flushErr, http.ErrNotSupported)
}
