package audit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward"
)

// HTTPAction is the default action of the events [Middleware] records.
const HTTPAction = "http.request"

// DefaultRequestIDHeader is the header [Middleware] reads the request id
// from unless [MiddlewareOptions.RequestIDHeader] names another.
const DefaultRequestIDHeader = "X-Request-Id"

// MiddlewareOptions configure [Middleware]. A nil *MiddlewareOptions means
// the defaults: every request recorded, in the default class, as action
// [HTTPAction], with the request id from [DefaultRequestIDHeader].
type MiddlewareOptions struct {
	// Skip, if set, is asked before each request is served; the requests
	// for which it returns true are served without being recorded (health
	// checks, metrics, static files).
	Skip func(*http.Request) bool
	// Class is the delivery class of the events (see Options.Policies).
	// Request events are usually many and individually of little weight: a
	// host that does not want every response to wait for the store gives
	// their class the Buffered policy.
	Class string
	// Action is the action of the events (default [HTTPAction]).
	Action string
	// RequestIDHeader names the request header that carries the request id
	// (default [DefaultRequestIDHeader]).
	RequestIDHeader string
	// OnError, if set, is told when an event could not be recorded (for a
	// Buffered class that is only an event refused at once, such as one
	// that fails validation). The response has already been written, so
	// nothing can be refused any more: hosts that must refuse a request
	// they cannot audit record their own FailClosed event before acting.
	// It runs in the request's goroutine and should not block long.
	OnError func(*http.Request, error)
}

// Metadata keys of the events [Middleware] records. All are Public.
const (
	MetaHTTPMethod        = "method"         // the request method, e.g. "GET"
	MetaHTTPStatus        = "status"         // the response status code, e.g. "200"
	MetaHTTPLatency       = "latency_ms"     // time to serve, in milliseconds, e.g. "1.25"
	MetaHTTPRequestBytes  = "request_bytes"  // the size of the request body
	MetaHTTPResponseBytes = "response_bytes" // the bytes of response body written
)

// Middleware returns HTTP middleware that records, with l, one event per
// request it serves (except those opts.Skip skips), once the wrapped
// handler has returned:
//
//   - Action: opts.Action, by default [HTTPAction]; Class: opts.Class.
//   - Resource: {Type: "http.route", ID: the route}. The route is the
//     pattern the request matched in an [http.ServeMux] (r.Pattern, e.g.
//     "GET /customers/{id}"), or the URL path if there is none. The query
//     string is never recorded: it often carries personal data (e-mail
//     addresses, names, tokens). Paths can too, which is one more reason to
//     route with ServeMux patterns.
//   - Actor: the [dataward.Actor] in the request's context, with its
//     SourceIP (the host part of r.RemoteAddr) and UserAgent filled in from
//     the request when the actor lacks them. Forwarding headers such as
//     X-Forwarded-For are not trusted here: a host behind a proxy sets
//     SourceIP in the actor it puts in the context.
//   - Outcome: [Success] for a status below 400, [Denied] for 401 and 403,
//     [Failure] for any other status of 400 or more. A handler that panics
//     is recorded as a failure with status 500 (unless it had already sent
//     a status), and the panic goes on.
//   - RequestID: the value of the header opts.RequestIDHeader.
//   - Time: when the request arrived, by l's clock.
//   - Metadata: the method, status, latency, request and response sizes,
//     under the MetaHTTP keys. The request size is the declared
//     Content-Length, or, when none was sent, the bytes the handler read.
//
// Values taken from the request are made valid UTF-8 and cut to
// [MaxFieldLen] bytes, so that no request, however malformed, makes an
// event invalid.
//
// Place Middleware inside the middleware that authenticates the request and
// puts its actor in the context with [dataward.WithActor], and directly
// around the ServeMux: the pattern is read from the request Middleware
// passes on, so a middleware in between that replaces the request (with
// r.WithContext, say) hides it, and the path is recorded instead.
//
// The wrapped [http.ResponseWriter] still offers http.Flusher,
// http.Hijacker and io.ReaderFrom, and unwraps for
// [http.ResponseController]. A hijacked connection is recorded with status
// 101 unless the handler had sent another.
//
// Record runs in the request's goroutine with the request's context, after
// the handler returns and before the server finishes the response; how long
// it waits is the policy of opts.Class (see [Policy]). Its errors go to
// opts.OnError. A client that hangs up while Record waits ends the wait,
// not the event: once queued, the event is stored all the same.
//
// Middleware panics if l is nil or opts give an invalid Action or Class,
// as [http.ServeMux.Handle] panics on a bad pattern: both are mistakes in
// the program, best found when it starts.
func Middleware(l *Logger, opts *MiddlewareOptions) func(http.Handler) http.Handler {
	if l == nil {
		panic("audit: Middleware: the Logger is nil")
	}
	var o MiddlewareOptions
	if opts != nil {
		o = *opts
	}
	if o.Action == "" {
		o.Action = HTTPAction
	}
	if o.RequestIDHeader == "" {
		o.RequestIDHeader = DefaultRequestIDHeader
	}
	if err := check(&Event{Action: o.Action, Class: o.Class, Outcome: Success}); err != nil {
		panic(fmt.Sprintf("audit: Middleware: %v", err))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.Skip != nil && o.Skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			serveAudited(l, &o, next, w, r)
		})
	}
}

// serveAudited serves r with next, and records it.
func serveAudited(l *Logger, o *MiddlewareOptions, next http.Handler, w http.ResponseWriter, r *http.Request) {
	start := l.opts.Clock.Now()
	rw := &responseRecorder{ResponseWriter: w}
	served := r
	var body *countingBody
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		// The size is not declared: count what the handler reads, on a
		// copy of the request, which a handler must not change.
		body = &countingBody{ReadCloser: r.Body}
		served = r.WithContext(r.Context())
		served.Body = body
	}

	completed := false
	defer func() {
		// Runs on return and on panic alike; a panic goes on after the
		// event is recorded, to the server's own recovery.
		status := rw.status
		switch {
		case !completed && status == 0:
			status = http.StatusInternalServerError
		case status == 0 && rw.hijacked:
			status = http.StatusSwitchingProtocols
		case status == 0:
			status = http.StatusOK // nothing written: net/http sends 200
		}
		size := r.ContentLength
		if body != nil {
			size = body.n
		}
		outcome := Success
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			outcome = Denied
		case status >= 400 || !completed:
			outcome = Failure
		}
		route := served.Pattern
		if route == "" {
			route = r.URL.Path
		}
		e := Event{
			Time:     start,
			Class:    o.Class,
			Action:   o.Action,
			Actor:    requestActor(r),
			Resource: Resource{Type: "http.route", ID: clip(route)},
			Outcome:  outcome,
			Metadata: []Attr{
				{Key: MetaHTTPMethod, Value: clip(r.Method)},
				{Key: MetaHTTPStatus, Value: strconv.Itoa(status)},
				{Key: MetaHTTPLatency, Value: formatMillis(l.opts.Clock.Now().Sub(start))},
				{Key: MetaHTTPRequestBytes, Value: strconv.FormatInt(max(size, 0), 10)},
				{Key: MetaHTTPResponseBytes, Value: strconv.FormatInt(rw.written, 10)},
			},
			RequestID: clip(r.Header.Get(o.RequestIDHeader)),
		}
		if !completed {
			e.Reason = "the handler panicked"
		}
		if err := l.Record(r.Context(), e); err != nil && o.OnError != nil {
			o.OnError(r, err)
		}
	}()
	next.ServeHTTP(rw, served)
	completed = true
}

// requestActor is the context's actor, completed from the request.
func requestActor(r *http.Request) Actor {
	var a Actor
	if ca, ok := dataward.ActorFrom(r.Context()); ok {
		a = ActorOf(ca)
	}
	if a.SourceIP == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr // not host:port, e.g. a Unix socket
		}
		a.SourceIP = clip(host)
	}
	if a.UserAgent == "" {
		a.UserAgent = clip(r.UserAgent())
	}
	return a
}

// clip makes s valid UTF-8 of at most MaxFieldLen bytes, cut at a rune
// boundary, so that a value taken from a request never fails [check].
func clip(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= MaxFieldLen {
		return s
	}
	n := MaxFieldLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// formatMillis writes d in milliseconds, to the microsecond: "0.412".
func formatMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64)
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// responseRecorder notes the status and size of a response as it passes
// through. It implements the optional interfaces a handler may assert
// (Flusher, Hijacker, ReaderFrom), each delegating down the chain through
// http.ResponseController, and Unwrap for the others.
type responseRecorder struct {
	http.ResponseWriter
	status   int   // the final status sent; 0 until then
	written  int64 // body bytes written
	hijacked bool
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteHeader notes the first final status: informational 1xx headers
// (such as 103 Early Hints) may precede it, except 101, which is final.
func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy to the response on the server's fast path
// (sendfile) when the wrapped writer has one.
func (w *responseRecorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		// Hide our own ReadFrom from io.Copy, which would call it again.
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.written += n
	return n, err
}

// Flush sends what is buffered to the client, if the wrapped writer can.
func (w *responseRecorder) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting its error; http.ResponseController calls
// it.
func (w *responseRecorder) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK // flushing sends the header
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over to the handler, if the wrapped writer
// can.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

type writerOnly struct{ io.Writer }
