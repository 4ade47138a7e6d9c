package consent

import (
	"context"
	"errors"
	"html/template"
	"mime"
	"net"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/dataward/dataward"
)

// UnsubscribeParam is the query parameter that carries an unsubscribe token
// in the URL of [Ledger.UnsubscribeHeaders].
const UnsubscribeParam = "t"

// UnsubscribeHeaders returns the List-Unsubscribe and List-Unsubscribe-Post
// headers (RFC 2369, RFC 8058) for a marketing e-mail to subject about
// purpose ("" for every purpose). baseURL is where [Ledger.UnsubscribeHandler]
// is served, over https; the token is added as its query parameter "t".
func (l *Ledger) UnsubscribeHeaders(baseURL string, subject dataward.SubjectID, purpose string) (map[string]string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, (&dataward.ValidationError{Package: "consent"}).Add("baseURL", "must be an absolute http(s) URL")
	}
	tok, err := l.UnsubscribeToken(subject, purpose)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set(UnsubscribeParam, tok)
	u.RawQuery = q.Encode()
	return map[string]string{
		"List-Unsubscribe":      "<" + u.String() + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}, nil
}

var linkPage = template.Must(template.New("").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head><body>
{{if .Done}}<p>{{.Done}}</p>
{{else if .Error}}<p>{{.Error}}</p>
{{else}}<form method="post">{{if .OneClick}}<input type="hidden" name="List-Unsubscribe" value="One-Click">{{end}}
<button type="submit">{{.Title}}</button></form>
{{end}}</body></html>
`))

type linkPageData struct {
	Title, Done, Error string
	OneClick           bool
}

// UnsubscribeHandler serves the links of [Ledger.UnsubscribeHeaders]. A POST
// (the one-click request a mail client sends, with the body
// "List-Unsubscribe=One-Click", or the form of the page) withdraws; a GET
// shows a page with an unsubscribe button and changes nothing, since mail
// scanners follow links. A bad token gets 400, an expired one 410; the
// page never shows the token or the subject.
func (l *Ledger) UnsubscribeHandler() http.Handler {
	return l.linkHandler(useUnsubscribe, linkPageData{Title: "Unsubscribe", Done: "You are unsubscribed.", OneClick: true},
		func(r *http.Request, tok string) error {
			_, err := l.Unsubscribe(r.Context(), tok, l.RequestEvidence(r))
			return err
		})
}

// ConfirmHandler serves double opt-in links: put the token of
// [Ledger.RequestConfirmation] in the query parameter "t" of its URL. A GET
// shows a page with a confirm button and changes nothing (mail scanners
// follow links, and must not confirm on the person's behalf); the POST of
// that button confirms. A bad or used token gets 400, an expired one 410.
func (l *Ledger) ConfirmHandler() http.Handler {
	return l.linkHandler(useConfirm, linkPageData{Title: "Confirm", Done: "Thank you: your subscription is confirmed."},
		func(r *http.Request, tok string) error {
			_, err := l.Confirm(r.Context(), tok, l.RequestEvidence(r))
			return err
		})
}

// linkHandler serves a link carrying a token: GET shows a button, POST acts.
func (l *Ledger) linkHandler(use byte, page linkPageData, act func(*http.Request, string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get(UnsubscribeParam)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		fail := func(err error) {
			status, msg := tokenStatus(err)
			w.WriteHeader(status)
			_ = linkPage.Execute(w, linkPageData{Title: page.Title, Error: msg})
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if _, err := l.open(tok, use); err != nil {
				fail(err)
				return
			}
			_ = linkPage.Execute(w, linkPageData{Title: page.Title, OneClick: page.OneClick})
		case http.MethodPost:
			r.Body = http.MaxBytesReader(w, r.Body, 4096)
			if err := parseForm(r); err != nil || page.OneClick && r.PostForm.Get("List-Unsubscribe") != "One-Click" {
				w.WriteHeader(http.StatusBadRequest)
				_ = linkPage.Execute(w, linkPageData{Title: page.Title, Error: "This request is not a one-click unsubscribe."})
				return
			}
			if err := act(r, tok); err != nil {
				fail(err)
				return
			}
			_ = linkPage.Execute(w, linkPageData{Title: page.Title, Done: page.Done})
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

// parseForm parses the body of a POST into r.PostForm, whether it is
// application/x-www-form-urlencoded or multipart/form-data: RFC 8058 says
// a one-click unsubscribe SHOULD be sent as the latter and MAY be sent as
// the former.
func parseForm(r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		err := r.ParseMultipartForm(4096)
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
		return err
	}
	return r.ParseForm()
}

func tokenStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return http.StatusGone, "This link has expired."
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrTokenUsed):
		return http.StatusBadRequest, "This link is not valid."
	}
	return http.StatusInternalServerError, "Something went wrong; please try again later."
}

// RequestEvidence returns the evidence of a choice made in r: the client's
// address (r.RemoteAddr without the port: behind a reverse proxy, that is
// the proxy's, so build Evidence from the header your proxy sets instead)
// and user agent. A value longer than a [Choice] accepts (1,024 bytes) is
// cut to that length, so that a client's long User-Agent cannot stop the
// choice from being recorded.
func RequestEvidence(r *http.Request) Evidence {
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return Evidence{IP: cut(ip, maxEvidenceLen), UserAgent: cut(r.UserAgent(), maxEvidenceLen)}
}

// cut returns s cut to at most n bytes, at the start of a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// GPCOptions configure the [GPC] middleware.
type GPCOptions struct {
	// Subject returns the data subject a request comes from, if known
	// (such as the signed-in customer). Required.
	Subject func(*http.Request) (dataward.SubjectID, bool)
	// Jurisdiction, if set, returns where the request comes from.
	Jurisdiction func(*http.Request) string
	// OnError, if set, is told when the signal could not be recorded; the
	// request is served either way.
	OnError func(*http.Request, error)
}

// GPC returns middleware that honours the Global Privacy Control signal: a
// request with the header "Sec-GPC: 1" from a known subject opts them out
// of every purpose registered with GPC set (sale, sharing, targeted
// advertising), as [Ledger.ApplyGPC] does, before the request is served.
func GPC(l *Ledger, opts GPCOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Sec-GPC") == "1" && opts.Subject != nil {
				if subject, ok := opts.Subject(r); ok {
					var j string
					if opts.Jurisdiction != nil {
						j = opts.Jurisdiction(r)
					}
					if _, err := l.ApplyGPC(r.Context(), subject, l.RequestEvidence(r), j); err != nil && opts.OnError != nil {
						opts.OnError(r, err)
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// GPCConflictNote is the Note of the Signal record made when a Global
// Privacy Control signal meets consent the person gave explicitly after an
// earlier signal.
const GPCConflictNote = "Global Privacy Control opt-out not applied: the person gave consent explicitly after an earlier signal"

// ApplyGPC records a Global Privacy Control opt-out signal from subject for
// every purpose registered with GPC set, and returns the records it made.
// For each such purpose:
//   - already withdrawn, refused, objected or expired: nothing is recorded;
//   - consent the person gave explicitly after an earlier GPC signal: the
//     signal does not override that later choice; a Signal record notes the
//     conflict (once, until the state changes);
//   - otherwise (no choice, an opt-out default, consent given before any
//     signal): a withdrawal with method MethodGPC.
//
// It reads the cache, so a request carrying the signal costs a check per
// purpose once the signal is on record.
func (l *Ledger) ApplyGPC(ctx context.Context, subject dataward.SubjectID, ev Evidence, jurisdiction string) ([]Record, error) {
	if err := badSubject("subject", subject); err != nil {
		return nil, err
	}
	reg := l.reg.Load()
	var out []Record
	var states []state // read once: appending for one purpose leaves the others' states alone
	for i := range reg.purposes {
		p := &reg.purposes[i]
		if !p.GPC {
			continue
		}
		if states == nil {
			var err error
			if states, err = l.states(ctx, reg, subject); err != nil {
				return out, err
			}
		}
		st := states[i]
		kind, note := Withdrawn, ""
		switch st.kind {
		case codeWithdrawn, codeRefused, codeObjected, codeExpired:
			continue
		case codeGiven, codeRenewed:
			if st.explicitOverGPC {
				if st.lastSignal {
					continue
				}
				kind, note = Signal, GPCConflictNote
			}
		}
		c := Choice{Subject: subject, Purpose: p.Key, Method: MethodGPC, Evidence: ev, Jurisdiction: jurisdiction, Note: note}
		if _, err := l.check(reg, kind, &c); err != nil {
			return out, err
		}
		rec, err := l.newRecord(ctx, kind, p, c)
		if err != nil {
			return out, err
		}
		if rec, err = l.append(ctx, rec); err != nil {
			return out, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// RequestEvidence returns [RequestEvidence](r) if the Ledger can keep
// evidence protected (it has a Sealer or a HashKey), and no evidence
// otherwise, so that the handlers and middleware of this package never
// fail for want of a key.
func (l *Ledger) RequestEvidence(r *http.Request) Evidence {
	if l.sealer == nil && l.hashKey == nil {
		return Evidence{}
	}
	return RequestEvidence(r)
}
