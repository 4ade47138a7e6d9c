// Command audit shows dataward's audit log end to end, in a small HTTP
// service: every request is recorded by the audit middleware, and the
// handlers record what they do to personal data (a changed e-mail address,
// a revealed one). It then prints a report, the signed checkpoint that
// commits to the log, and proves that one event is in the log with nothing
// but the log's public key. Finally it erases the customer by shredding their
// key, and shows that the report no longer reads their data while the proof
// still holds.
//
// Everything lives in a temporary directory, removed at the end: a SQLite
// database and a development master key.
//
//	go run ./examples/audit
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/insecurekeyfile"
	"github.com/dataward/dataward/sqlstore"
)

const customerID dataward.SubjectID = "cust-42"

func main() {
	log.SetFlags(0)
	if err := run(context.Background()); err != nil {
		log.Fatalf("audit example: %v", err)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dataward-audit-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Keys and storage: a development master key (production uses a
	// KMS), SQLite holding both the customers' data keys and the audit log,
	// a key to sign checkpoints, and a key for the log's keyed hashes.
	kek, err := insecurekeyfile.AEAD(filepath.Join(dir, "dev-kek.json"))
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "dataward.db"), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	keyring, err := pii.NewKeyring(kek, db.KeyStore(), nil)
	if err != nil {
		return err
	}
	signingKey, publicKey, err := note.GenerateKey(rand.Reader, "audit.example.com/customers")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(signingKey)
	if err != nil {
		return err
	}
	hashKey := make([]byte, 32)
	rand.Read(hashKey)
	logger, err := audit.New(db.AuditStore(), &audit.Options{
		HashKey: hashKey,
		Sealer:  keyring, // secret values are encrypted under the customer's key
		Signer:  signer,
		// A change is recorded before it is made, and refused if it cannot
		// be. Request events keep the default, Durable; a busy service
		// would make them Buffered.
		Policies: map[string]audit.Policy{"change": audit.FailClosed},
	})
	if err != nil {
		return err
	}
	defer logger.Close(ctx)
	step(1, "opened SQLite in %s, with a development master key, a checkpoint signing key and a hash key", dir)

	// 2. The service, and one customer.
	app := &service{keyring: keyring, audit: logger, customers: map[dataward.SubjectID]customer{}}
	if err := app.add(ctx, customerID, "Zanele Dlamini", "zanele.dlamini@example.com"); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", app.getCustomer)
	mux.HandleFunc("PUT /customers/{id}/email", app.putEmail)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	audited := audit.Middleware(logger, &audit.MiddlewareOptions{
		Class: "http",
		Skip:  func(r *http.Request) bool { return r.URL.Path == "/healthz" },
		OnError: func(r *http.Request, err error) {
			log.Printf("audit: could not record %s %s: %v", r.Method, r.URL.Path, err)
		},
	})(mux)
	srv := httptest.NewServer(authenticate(audited))
	defer srv.Close()
	step(2, "serving GET /customers/{id} and PUT /customers/{id}/email at %s, behind the audit middleware", srv.URL)

	// 3. Some traffic.
	client := &caller{base: srv.URL, http: srv.Client()}
	step(3, "calling the service:")
	client.do("staff-7", "GET", "/customers/cust-42", "")
	client.do("staff-7", "PUT", "/customers/cust-42/email", "zanele@newmail.example")
	client.do("staff-7", "GET", "/customers/cust-42?reveal=email", "")
	client.do("intern-3", "GET", "/customers/cust-42?reveal=email", "")
	client.do("", "GET", "/customers/cust-42", "")
	client.do("", "GET", "/healthz", "")
	if client.err != nil {
		return client.err
	}

	// 4. The report: everything, then the customer's own events, read by
	// naming the customer, which opens the values sealed under their key.
	all, _, err := logger.Query(ctx, audit.Query{})
	if err != nil {
		return err
	}
	step(4, "the log holds %d events (the health check was skipped, no query string was recorded,\n   and secret values read [sealed] unless the customer is named):", len(all))
	printTable(all)
	theirs, _, err := logger.Query(ctx, audit.Query{Subject: customerID})
	if err != nil {
		return err
	}
	fmt.Printf("\n   the events about %s, opened with their key:\n", customerID)
	printTable(theirs)

	// 5. A signed checkpoint: the log's size and Merkle root. Publish it
	// outside the database (a file, a transparency service, the DPO's
	// mailbox); nobody can then rewrite the log unnoticed.
	cp, err := logger.Checkpoint(ctx)
	if err != nil {
		return err
	}
	step(5, "signed checkpoint of the log, to publish:\n%s", indent(string(cp.Note)))

	// 6. Prove one event to a third party: the e-mail change, exported as a
	// JSON line with its inclusion proof. The auditor checks it with the
	// public key alone.
	update, err := findChange(ctx, logger, cp)
	if err != nil {
		return err
	}
	var line bytes.Buffer
	if err := audit.WriteJSONLines(&line, []audit.StoredEvent{update}); err != nil {
		return err
	}
	if err := thirdPartyCheck(publicKey, cp.Note, line.Bytes()); err != nil {
		return fmt.Errorf("the proof should verify: %w", err)
	}
	step(6, "exported event %d (%s) with its proof, %d bytes of JSON:\n       %s\n   an auditor holding only the public key %s\n   checked it against the checkpoint: it is in the log, unchanged",
		update.Index, update.Action, line.Len(), short(line.String(), 100), short(publicKey, 40))

	// 7. The customer asks to be erased: shred their key.
	if _, err := keyring.Shred(ctx, customerID); err != nil {
		return err
	}
	step(7, "shredded %s's key: their personal data is erased wherever it is kept", customerID)
	client.do("staff-7", "GET", "/customers/cust-42", "")
	if client.err != nil {
		return client.err
	}
	theirs, _, err = logger.Query(ctx, audit.Query{Subject: customerID})
	if err != nil {
		return err
	}
	fmt.Printf("   their events in the log now read:\n")
	printTable(theirs)
	after, err := findChange(ctx, logger, cp)
	if err != nil {
		return err
	}
	line.Reset()
	if err := audit.WriteJSONLines(&line, []audit.StoredEvent{after}); err != nil {
		return err
	}
	if err := thirdPartyCheck(publicKey, cp.Note, line.Bytes()); err != nil {
		return fmt.Errorf("the proof should still verify after erasure: %w", err)
	}
	fmt.Printf("   and the same event, exported again, still verifies against the checkpoint:\n   the log commits to the encrypted values, which erasure leaves in place, unreadable.\n")
	fmt.Println("\nDone.")
	return nil
}

// customer is the service's own record: its personal data sealed under
// the customer's key.
type customer struct {
	name, email string // sealed
}

type service struct {
	keyring *pii.Keyring
	audit   *audit.Logger

	mu        sync.Mutex
	customers map[dataward.SubjectID]customer
}

func (s *service) add(ctx context.Context, id dataward.SubjectID, name, email string) error {
	var c customer
	var err error
	if c.name, err = s.keyring.SealString(ctx, id, "customer.name", name); err != nil {
		return err
	}
	if c.email, err = s.keyring.SealString(ctx, id, "customer.email", email); err != nil {
		return err
	}
	s.mu.Lock()
	s.customers[id] = c
	s.mu.Unlock()
	return nil
}

// open returns a customer's name and e-mail address in clear.
func (s *service) open(ctx context.Context, id dataward.SubjectID) (name, email string, err error) {
	s.mu.Lock()
	c, ok := s.customers[id]
	s.mu.Unlock()
	if !ok {
		return "", "", errNotFound
	}
	if name, err = s.keyring.OpenString(ctx, id, "customer.name", c.name); err != nil {
		return "", "", err
	}
	email, err = s.keyring.OpenString(ctx, id, "customer.email", c.email)
	return name, email, err
}

var errNotFound = errors.New("no such customer")

// getCustomer shows a customer masked, or, with ?reveal=email, their
// e-mail address in clear to support staff, which is recorded.
func (s *service) getCustomer(w http.ResponseWriter, r *http.Request) {
	id := dataward.SubjectID(r.PathValue("id"))
	actor, _ := dataward.ActorFrom(r.Context())
	if actor.ID == "" {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	name, email, err := s.open(r.Context(), id)
	if !s.fail(w, err) {
		return
	}
	if r.URL.Query().Get("reveal") != "email" {
		fmt.Fprintf(w, "%s <%s>", pii.Mask(name), pii.MaskEmail(email))
		return
	}
	reveal := audit.Event{
		Action:   "pii.reveal",
		Subject:  id,
		Resource: audit.Resource{Type: "customer", ID: string(id)},
		Reason:   "support ticket",
		Metadata: []audit.Attr{{Key: "field", Value: "email"}},
	}
	if !hasRole(actor, "support") {
		reveal.Outcome, reveal.Reason = audit.Denied, "not in the support role"
		_ = s.audit.Record(r.Context(), reveal) // the refusal is what matters; the request event is recorded too
		http.Error(w, "only support staff may reveal an e-mail address", http.StatusForbidden)
		return
	}
	if err := s.audit.Record(r.Context(), reveal); err != nil {
		http.Error(w, "cannot audit the reveal: refused", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "%s <%s>", pii.Mask(name), email)
}

// putEmail changes a customer's e-mail address, recording the change
// (masked) before making it.
func (s *service) putEmail(w http.ResponseWriter, r *http.Request) {
	id := dataward.SubjectID(r.PathValue("id"))
	if actor, _ := dataward.ActorFrom(r.Context()); !hasRole(actor, "support") {
		http.Error(w, "only support staff may change customers", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1024))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	newEmail := strings.TrimSpace(string(body))
	_, oldEmail, err := s.open(r.Context(), id)
	if !s.fail(w, err) {
		return
	}
	err = s.audit.Record(r.Context(), audit.Event{
		Class:    "change",
		Action:   "customer.update",
		Subject:  id,
		Resource: audit.Resource{Type: "customer", ID: string(id)},
		Changes:  []audit.Change{{Field: "email", Before: pii.MaskEmail(oldEmail), After: pii.MaskEmail(newEmail)}},
	})
	if err != nil {
		http.Error(w, "cannot audit the change: refused", http.StatusServiceUnavailable)
		return
	}
	sealed, err := s.keyring.SealString(r.Context(), id, "customer.email", newEmail)
	if !s.fail(w, err) {
		return
	}
	s.mu.Lock()
	c := s.customers[id]
	c.email = sealed
	s.customers[id] = c
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// fail answers for err and reports whether there was none.
func (s *service) fail(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, errNotFound):
		http.Error(w, "no such customer", http.StatusNotFound)
	case errors.Is(err, pii.ErrShredded):
		http.Error(w, "this customer was erased", http.StatusGone)
	default:
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
	return false
}

func hasRole(a dataward.Actor, role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// staff is the demo's user directory.
var staff = map[string][]string{"staff-7": {"support"}, "intern-3": nil}

// authenticate puts the caller in the request context. A real service
// checks a session or a token; this demo trusts the X-Demo-User header.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Demo-User"); id != "" {
			roles, ok := staff[id]
			if !ok {
				http.Error(w, "unknown user", http.StatusUnauthorized)
				return
			}
			r = r.WithContext(dataward.WithActor(r.Context(), dataward.Actor{ID: id, Kind: dataward.ActorUser, Roles: roles}))
		}
		next.ServeHTTP(w, r)
	})
}

// caller calls the service and prints each exchange; the first error
// sticks.
type caller struct {
	base string
	http *http.Client
	n    int
	err  error
}

func (c *caller) do(user, method, path, body string) {
	if c.err != nil {
		return
	}
	c.n++
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.err = err
		return
	}
	if user != "" {
		req.Header.Set("X-Demo-User", user)
	}
	req.Header.Set("X-Request-Id", fmt.Sprintf("req-%d", c.n))
	resp, err := c.http.Do(req)
	if err != nil {
		c.err = err
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.err = err
		return
	}
	answer := strings.TrimSpace(string(b))
	who := user
	if who == "" {
		who = "nobody"
	}
	if answer == "" {
		answer = "(no body)"
	}
	fmt.Printf("       %-8s %-4s %-34s -> %d %s\n", who, method, path, resp.StatusCode, answer)
}

// printTable prints events as a table, one line each.
func printTable(events []audit.StoredEvent) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "       #\taction\tresource\tactor\toutcome\tdetails")
	for _, e := range events {
		actor := e.Actor.ID
		if actor == "" {
			actor = "(anonymous)"
		}
		fmt.Fprintf(tw, "       %d\t%s\t%s\t%s\t%s\t%s\n", e.Index, e.Action, e.Resource.ID, actor, e.Outcome, details(e))
	}
	tw.Flush()
}

// details sums up what an event carries beyond the columns.
func details(e audit.StoredEvent) string {
	var parts []string
	for _, a := range e.Metadata {
		switch a.Key {
		case audit.MetaHTTPLatency, audit.MetaHTTPRequestBytes, audit.MetaHTTPResponseBytes:
			continue // noise, for this table
		}
		parts = append(parts, a.Key+"="+a.Value)
	}
	for _, c := range e.Changes {
		parts = append(parts, fmt.Sprintf("%s: %s -> %s", c.Field, c.Before, c.After))
	}
	if e.Reason != "" {
		parts = append(parts, "reason: "+e.Reason)
	}
	if e.RequestID != "" {
		parts = append(parts, e.RequestID)
	}
	return strings.Join(parts, ", ")
}

// findChange returns the customer.update event with its proof against cp.
func findChange(ctx context.Context, logger *audit.Logger, cp audit.Checkpoint) (audit.StoredEvent, error) {
	events, _, err := logger.Query(ctx, audit.Query{Action: "customer.update", Subject: customerID, Proofs: true, Checkpoint: &cp})
	if err != nil {
		return audit.StoredEvent{}, err
	}
	if len(events) != 1 {
		return audit.StoredEvent{}, fmt.Errorf("found %d customer.update events, want 1", len(events))
	}
	return events[0], nil
}

// thirdPartyCheck is what an auditor runs: it reads one exported JSON line
// and checks it against a published checkpoint with the public key, and
// nothing of the service's.
func thirdPartyCheck(publicKey string, checkpoint, jsonLine []byte) error {
	var row struct {
		Index int64            `json:"index"`
		Data  []byte           `json:"data"`
		Proof tlog.RecordProof `json:"proof"`
	}
	if err := json.Unmarshal(jsonLine, &row); err != nil {
		return err
	}
	return audit.CheckInclusion(publicKey, checkpoint, row.Index, row.Data, row.Proof)
}

func step(n int, format string, args ...any) {
	fmt.Printf("\n%d. %s\n", n, fmt.Sprintf(format, args...))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "       " + l
		}
	}
	return strings.Join(lines, "\n")
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return strings.TrimSpace(s)
}
