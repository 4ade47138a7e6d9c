// Command consent shows dataward's consent ledger in a small web shop: a
// sign-up form with a checkbox per purpose, double opt-in for the
// newsletter, a newsletter with a working one-click unsubscribe (RFC 8058),
// the Global Privacy Control signal, "unsubscribe from everything", and the
// proof of a customer's choices that a regulator (or the customer) asks
// for, tied to the tamper-evident audit log by inclusion proofs that anyone
// checks with the log's public key alone.
//
// The shop is served on loopback by net/http/httptest, and the demo plays
// the customer, their browser and their mail client. Everything lives in a
// temporary directory, removed at the end: a SQLite database holding the
// consent ledger, the audit log and the customers' data keys, and a
// development master key.
//
//	go run ./examples/consent
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/insecurekeyfile"
	"github.com/dataward/dataward/sqlstore"
)

// The shop's purposes, named by fideslang data uses.
const (
	newsletterKey = "marketing.communications.email"
	smsKey        = "marketing.communications.sms"
	serviceKey    = "essential.service.notifications.email"
	adsKey        = "marketing.advertising.third_party.targeted"
)

// The texts shown to customers. The ledger keeps their SHA-256, so that a
// record proves what exactly the person read; every version stays
// registered, so that choices made under an old one keep their proof.
const (
	newsletterV1 = "Send me the newsletter."
	newsletterV2 = "Send me the Example Shop newsletter by e-mail, about once a month: new products and offers. " +
		"You can unsubscribe at any time with the link in every newsletter."
	smsText = "Send me offers by SMS, at most twice a month. Reply STOP to any message to stop them."
	adsText = "Let Example Shop share my browsing on this site with its advertising partners, " +
		"so that their ads on other sites match my interests. I can change my mind on my account page."
	serviceText = "We e-mail you about your orders, deliveries and account: these messages are part of the service you sign up for."
)

// twoYears is how long newsletter consent lasts before it is asked for again.
const twoYears = 2 * 365 * 24 * time.Hour

var (
	newsletterNotice = consent.NewNotice("newsletter-signup", 2, "en", newsletterV2, false)
	smsNotice        = consent.NewNotice("sms-offers", 1, "en", smsText, false)
	adsNotice        = consent.NewNotice("ads-partners", 1, "en", adsText, false)
	serviceNotice    = consent.NewNotice("privacy-notice", 3, "en", serviceText, false)
)

func purposes() []consent.Purpose {
	return []consent.Purpose{
		{
			Key:         newsletterKey,
			Description: "The monthly newsletter, by e-mail",
			Basis:       consent.BasisConsent,
			Mechanism:   consent.OptIn,
			Channels:    []consent.Channel{consent.ChannelEmail},
			Validity:    twoYears,
			Notices: []consent.Notice{
				consent.NewNotice("newsletter-signup", 1, "en", newsletterV1, false), // retired, kept for old records
				newsletterNotice,
			},
		},
		{
			Key:         smsKey,
			Description: "Offers by SMS",
			Basis:       consent.BasisConsent,
			Mechanism:   consent.OptIn,
			Channels:    []consent.Channel{consent.ChannelSMS},
			Notices:     []consent.Notice{smsNotice},
		},
		{
			Key:         serviceKey,
			Description: "E-mails about orders, deliveries and the account",
			Basis:       consent.BasisContract,
			Mechanism:   consent.NoticeOnly, // told, not asked
			Channels:    []consent.Channel{consent.ChannelEmail},
			Notices:     []consent.Notice{serviceNotice},
		},
		{
			Key:         adsKey,
			Description: "Sharing browsing data with advertising partners for targeted ads",
			Basis:       consent.BasisConsent,
			Mechanism:   consent.OptIn,
			Channels:    []consent.Channel{consent.ChannelWeb},
			Notices:     []consent.Notice{adsNotice},
			GPC:         true, // a Global Privacy Control signal opts the person out
		},
	}
}

func main() {
	log.SetFlags(0)
	if err := run(context.Background()); err != nil {
		log.Fatalf("consent example: %v", err)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dataward-consent-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Keys and storage, as in examples/audit: a development master key
	// (production uses a KMS), one SQLite database for the customers' data
	// keys, the audit log and the consent ledger, a key that signs the
	// log's checkpoints, and secret keys for hashes and for the links sent
	// to customers.
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
	signingKey, publicKey, err := note.GenerateKey(rand.Reader, "audit.shop.example/consent")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(signingKey)
	if err != nil {
		return err
	}
	logger, err := audit.New(db.AuditStore(), &audit.Options{HashKey: randomKey(), Sealer: keyring, Signer: signer})
	if err != nil {
		return err
	}
	defer logger.Close(ctx)
	ledger, err := consent.New(db.ConsentStore(), &consent.Options{
		Audit:    logger,      // every record gets an audit event carrying its digest
		Sealer:   keyring,     // evidence (IP address, user agent) is encrypted under the customer's key
		TokenKey: randomKey(), // signs the confirmation and unsubscribe links: keep it secret and stable
		OnError:  func(err error) { log.Printf("consent: %v", err) },
	})
	if err != nil {
		return err
	}
	// Run follows the ledger, so that choices made in other processes reach
	// this one's cache; it stops when runCtx is cancelled, before the
	// database closes.
	runCtx, stop := context.WithCancel(ctx)
	following := make(chan struct{})
	go func() { _ = ledger.Run(runCtx); close(following) }()
	defer func() { stop(); <-following }()
	step(1, "opened SQLite in %s: data keys, audit log (signed checkpoints) and consent ledger", dir)

	// 2. Purposes are configuration: every process registers them at start.
	if err := ledger.Register(purposes()...); err != nil {
		return err
	}
	step(2, "registered %d purposes:", len(ledger.Purposes()))
	printPurposes(ledger.Purposes())

	shop := &shop{ledger: ledger, keyring: keyring, customers: map[dataward.SubjectID]string{}}
	srv := httptest.NewServer(shop.routes())
	defer srv.Close()
	shop.base = srv.URL
	browser := &caller{base: srv.URL, http: srv.Client()}

	// 3. Sign-up. The form shows a checkbox per purpose, none ticked; the
	// customer ticks the newsletter and the ads, and leaves SMS offers.
	step(3, "sign-up at %s/signup; the form asks:", srv.URL)
	for _, b := range signupForm {
		fmt.Printf("       [ ] %-24s notice %s v%d (%s), sha256 %s…\n", b.Label, b.Notice.ID, b.Notice.Version, b.Notice.Language, b.Notice.SHA256[:12])
	}
	fmt.Printf("       and says: %q\n", short(serviceText, 80))
	browser.do("GET", "/signup", "", nil)
	form := url.Values{"email": {"thandi.mokoena@example.com"}, "consent": {newsletterKey, adsKey}}
	answer := browser.do("POST", "/signup", form.Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if browser.err != nil {
		return browser.err
	}
	customer := dataward.SubjectID(strings.TrimPrefix(strings.Fields(answer)[0], "welcome:"))
	fmt.Printf("   the ledger for %s now reads:\n", customer)
	if err := printStates(ctx, ledger, customer); err != nil {
		return err
	}

	// 4. Double opt-in: the newsletter counts once the customer follows the
	// link e-mailed to them, which proves that the address is theirs.
	m := shop.lastMail()
	link := m.link()
	step(4, "double opt-in: e-mail to %s, %q:\n       %s", m.To, m.Subject, short(link, 72))
	path := strings.TrimPrefix(link, srv.URL)
	browser.do("GET", path, "", nil) // a mail scanner, or the customer's first look: changes nothing
	if err := printState(ctx, ledger, customer, newsletterKey); err != nil {
		return err
	}
	browser.do("POST", path, "", nil) // the click on "Confirm"
	if err := printState(ctx, ledger, customer, newsletterKey); err != nil {
		return err
	}
	browser.do("POST", path, "", nil) // the link works once
	if browser.err != nil {
		return browser.err
	}

	// 5. The newsletter goes out with List-Unsubscribe headers; the
	// customer's mail client offers "Unsubscribe", which POSTs to the link
	// (RFC 8058). The order e-mails are not affected: they are part of the
	// service.
	sent := shop.sendNewsletter(ctx, "March offers")
	step(5, "newsletter run: %s", sent)
	m = shop.lastMail()
	fmt.Printf("   the e-mail to %s carries:\n", m.To)
	for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post"} {
		fmt.Printf("       %s: %s\n", h, short(m.Headers[h], 72))
	}
	unsubscribe := strings.TrimPrefix(strings.Trim(m.Headers["List-Unsubscribe"], "<>"), srv.URL)
	if err := printState(ctx, ledger, customer, newsletterKey); err != nil {
		return err
	}
	fmt.Printf("   the mail client sends the one-click POST:\n")
	browser.do("POST", unsubscribe, m.Headers["List-Unsubscribe-Post"], http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if browser.err != nil {
		return browser.err
	}
	if err := printState(ctx, ledger, customer, newsletterKey); err != nil {
		return err
	}
	if err := printState(ctx, ledger, customer, serviceKey); err != nil {
		return err
	}
	fmt.Printf("   next newsletter run: %s\n", shop.sendNewsletter(ctx, "April offers"))

	// 6. Global Privacy Control: the customer's browser sends "Sec-GPC: 1";
	// the middleware opts them out of the purposes registered with GPC.
	step(6, "the customer's browser turns on Global Privacy Control:")
	if err := printState(ctx, ledger, customer, adsKey); err != nil {
		return err
	}
	signedIn := http.Header{"X-Demo-Customer": {string(customer)}}
	browser.do("GET", "/account", "", withGPC(signedIn))
	if err := printState(ctx, ledger, customer, adsKey); err != nil {
		return err
	}
	browser.do("GET", "/account", "", withGPC(signedIn)) // the signal again: nothing more to record
	fmt.Printf("   the customer then ticks the ads again on their account page, GPC still on:\n")
	browser.do("POST", "/account/ads", url.Values{"ads": {"yes"}}.Encode(), formHeader(withGPC(signedIn)))
	browser.do("GET", "/account", "", withGPC(signedIn))
	if browser.err != nil {
		return browser.err
	}
	if err := printState(ctx, ledger, customer, adsKey); err != nil {
		return err
	}
	fmt.Printf("   (a signal does not override a later explicit choice; a %q record notes the conflict)\n", consent.Signal)

	// 7. Unsubscribe from everything, from the account page.
	step(7, "the customer unsubscribes from everything on their account page:")
	browser.do("POST", "/account/unsubscribe-all", "", formHeader(signedIn))
	if browser.err != nil {
		return browser.err
	}
	if err := printStates(ctx, ledger, customer); err != nil {
		return err
	}

	// 8. The proof: the customer's full history, each record with its audit
	// event and inclusion proof against a signed checkpoint of the log.
	cp, err := logger.Checkpoint(ctx)
	if err != nil {
		return err
	}
	proof, err := ledger.Proof(ctx, customer, &consent.ProofOptions{
		Checkpoint:   &cp,
		OpenEvidence: true, // for the customer's own access request; a regulator gets the stored form
		Controller: consent.Controller{
			Name: "Example Shop (Pty) Ltd", Contact: "Information Officer", Email: "privacy@shop.example",
			Address: "1 Example Street, Cape Town, 8001, South Africa", PolicyURL: "https://shop.example/privacy",
		},
	})
	if err != nil {
		return err
	}
	step(8, "proof of %s's choices, against the signed checkpoint:\n%s", customer, indent(string(cp.Note)))
	printRecords(proof.Records)
	var out bytes.Buffer
	if err := proof.WriteJSON(&out); err != nil {
		return err
	}
	fmt.Printf("\n   as JSON (%d bytes), the first record:\n%s\n", out.Len(), indent(firstRecordJSON(out.Bytes())))
	out.Reset()
	if err := proof.WriteISO27560(&out); err != nil {
		return err
	}
	fmt.Printf("\n   as ISO/IEC TS 27560 consent records, JSON-LD (%d bytes):\n%s\n", out.Len(), indent(head(out.String(), 18)))
	out.Reset()
	if err := proof.WriteKantara(&out); err != nil {
		return err
	}
	var receipts []json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &receipts); err != nil {
		return err
	}
	fmt.Printf("\n   as Kantara Consent Receipts v1.1: %d receipts (one per consent given), the first:\n%s\n",
		len(receipts), indent(head(string(receipts[0]), 12)))

	// 9. A third party checks one record with the public key alone: the
	// record's digest is in its audit event, and the event is in the log.
	out.Reset()
	if err := proof.WriteJSON(&out); err != nil {
		return err
	}
	checked, err := thirdPartyCheck(publicKey, out.Bytes(), consent.MethodDoubleOptIn)
	if err != nil {
		return fmt.Errorf("the proof should verify: %w", err)
	}
	step(9, "an auditor holding only the exported JSON and the log's public key %s\n   checked record %d (%s, %s): its digest is in audit event %d,\n   and that event is in the log the signed checkpoint commits to",
		short(publicKey, 40), checked.Seq, checked.Kind, checked.Method, checked.Audit.Index)
	fmt.Println("\nDone.")
	return nil
}

// signupForm lists the checkboxes of the sign-up form, each with the notice
// shown beside it. None is ticked when the form is shown (GDPR Recital 32).
var signupForm = []checkbox{
	{Purpose: newsletterKey, Label: "newsletter by e-mail", Text: newsletterV2, Notice: newsletterNotice, DoubleOptIn: true},
	{Purpose: smsKey, Label: "offers by SMS", Text: smsText, Notice: smsNotice},
	{Purpose: adsKey, Label: "ads from partners", Text: adsText, Notice: adsNotice},
}

type checkbox struct {
	Purpose, Label, Text string
	Notice               consent.Notice
	// DoubleOptIn: consent counts once confirmed through a link e-mailed
	// to the address given.
	DoubleOptIn bool
}

// shop is the host application: its customers' e-mail addresses (sealed
// under each customer's key) and the e-mails it sends.
type shop struct {
	ledger  *consent.Ledger
	keyring *pii.Keyring
	base    string // the shop's URL, for links in e-mails

	mu        sync.Mutex
	customers map[dataward.SubjectID]string // sealed e-mail addresses
	order     []dataward.SubjectID
	outbox    []mail
}

// mail is an e-mail the shop sends; To is masked, since the demo prints it.
type mail struct {
	To, Subject, Body string
	Headers           map[string]string
}

// link returns the first link in the body.
func (m mail) link() string {
	i := strings.Index(m.Body, "http")
	if i < 0 {
		return ""
	}
	return strings.Fields(m.Body[i:])[0]
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /signup", s.showSignup)
	mux.HandleFunc("POST /signup", s.signup)
	// The double opt-in link: GET shows a button (mail scanners follow
	// links and must not confirm), its POST confirms.
	mux.Handle("/confirm", s.ledger.ConfirmHandler())
	mux.Handle("/unsubscribe", s.ledger.UnsubscribeHandler())
	mux.HandleFunc("GET /account", s.account)
	mux.HandleFunc("POST /account/ads", s.setAds)
	mux.HandleFunc("POST /account/unsubscribe-all", s.unsubscribeAll)
	// The Global Privacy Control signal is honoured on every page a
	// signed-in customer visits.
	gpc := consent.GPC(s.ledger, consent.GPCOptions{
		Subject:      signedIn,
		Jurisdiction: jurisdiction,
		OnError:      func(r *http.Request, err error) { log.Printf("GPC signal on %s not recorded: %v", r.URL.Path, err) },
	})
	return authenticate(gpc(mux))
}

var signupPage = template.Must(template.New("").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign up</title></head><body>
<form method="post" action="/signup">
<label>E-mail <input type="email" name="email" required></label>
{{range .}}<label><input type="checkbox" name="consent" value="{{.Purpose}}"> {{.Text}}</label>
{{end}}<p>` + serviceText + `</p>
<button type="submit">Create my account</button>
</form></body></html>
`))

func (s *shop) showSignup(w http.ResponseWriter, r *http.Request) {
	_ = signupPage.Execute(w, signupForm)
}

// signup creates the customer and records a choice for every checkbox of
// the form: given (or, for the newsletter, a double opt-in requested) when
// ticked, refused when not, each with the notice shown and the evidence of
// the request.
func (s *shop) signup(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if !strings.Contains(email, "@") {
		http.Error(w, "an e-mail address is required", http.StatusBadRequest)
		return
	}
	ticked := map[string]bool{}
	for _, key := range r.PostForm["consent"] {
		ticked[key] = true
	}
	id, err := s.addCustomer(r.Context(), email)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// The customer acts on their own data.
	ctx := dataward.WithActor(r.Context(), dataward.Actor{ID: string(id), Kind: dataward.ActorSubject})
	for _, b := range signupForm {
		// A real form carries the notice versions it rendered in hidden
		// fields, in case a notice changes between showing and submitting.
		c := consent.Choice{
			Subject:      id,
			Purpose:      b.Purpose,
			Notice:       b.Notice.Ref(),
			Method:       consent.MethodForm,
			Evidence:     consent.RequestEvidence(r),
			Jurisdiction: jurisdiction(r),
		}
		switch {
		case ticked[b.Purpose] && b.DoubleOptIn:
			_, token, err := s.ledger.RequestConfirmation(ctx, c)
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			s.send(id, email, "Please confirm your subscription",
				"Click to confirm that you want our newsletter: "+s.base+"/confirm?t="+url.QueryEscape(token)+" (valid for 3 days)", nil)
		case ticked[b.Purpose]:
			_, err = s.ledger.Give(ctx, c)
		default:
			_, err = s.ledger.Refuse(ctx, c)
		}
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "welcome:%s (check your inbox to confirm the newsletter)", id)
}

func (s *shop) addCustomer(ctx context.Context, email string) (dataward.SubjectID, error) {
	s.mu.Lock()
	id := dataward.SubjectID(fmt.Sprintf("cust-%d", 1001+len(s.order)))
	s.order = append(s.order, id)
	s.mu.Unlock()
	sealed, err := s.keyring.SealString(ctx, id, "customer.email", email)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.customers[id] = sealed
	s.mu.Unlock()
	return id, nil
}

// account shows the signed-in customer their choices. The GPC middleware
// has already recorded a signal, if the browser sent one.
func (s *shop) account(w http.ResponseWriter, r *http.Request) {
	id, ok := signedIn(r)
	if !ok {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	d, err := s.ledger.Allowed(r.Context(), id, adsKey)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "ads from partners: %s", onOff(d.Allowed))
}

// setAds records the choice made with the ads checkbox of the account page.
func (s *shop) setAds(w http.ResponseWriter, r *http.Request) {
	id, ok := signedIn(r)
	if !ok {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	c := consent.Choice{Subject: id, Purpose: adsKey, Notice: adsNotice.Ref(), Evidence: consent.RequestEvidence(r), Jurisdiction: jurisdiction(r)}
	var err error
	if r.PostFormValue("ads") == "yes" {
		_, err = s.ledger.Give(r.Context(), c)
	} else {
		_, err = s.ledger.Withdraw(r.Context(), c)
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "saved: ads from partners %s", onOff(r.PostFormValue("ads") == "yes"))
}

// unsubscribeAll withdraws every purpose the customer can say no to.
func (s *shop) unsubscribeAll(w http.ResponseWriter, r *http.Request) {
	id, ok := signedIn(r)
	if !ok {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	recs, err := s.ledger.WithdrawAll(r.Context(), consent.Choice{Subject: id, Evidence: consent.RequestEvidence(r), Jurisdiction: jurisdiction(r)})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "unsubscribed from everything (withdrawn now: %d)", len(recs))
}

// sendNewsletter e-mails the newsletter to every customer who may receive
// it now, with one-click unsubscribe headers, and sums up the run.
func (s *shop) sendNewsletter(ctx context.Context, subject string) string {
	s.mu.Lock()
	ids := append([]dataward.SubjectID(nil), s.order...)
	s.mu.Unlock()
	var report []string
	for _, id := range ids {
		d, err := s.ledger.Allowed(ctx, id, newsletterKey)
		if err != nil {
			report = append(report, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		if !d.Allowed {
			report = append(report, fmt.Sprintf("skipped %s (%s)", id, d.Reason))
			continue
		}
		headers, err := s.ledger.UnsubscribeHeaders(s.base+"/unsubscribe", id, newsletterKey)
		if err != nil {
			report = append(report, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		s.mu.Lock()
		sealed := s.customers[id]
		s.mu.Unlock()
		email, err := s.keyring.OpenString(ctx, id, "customer.email", sealed)
		if err != nil {
			report = append(report, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		s.send(id, email, subject, "This month at Example Shop ...", headers)
		report = append(report, fmt.Sprintf("sent %q to %s (%s)", subject, id, d.Reason))
	}
	return strings.Join(report, "; ")
}

// send "sends" an e-mail: it keeps it in the outbox, with the address
// masked.
func (s *shop) send(_ dataward.SubjectID, to, subject, body string, headers map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = append(s.outbox, mail{To: pii.MaskEmail(to), Subject: subject, Body: body, Headers: headers})
}

func (s *shop) lastMail() mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox[len(s.outbox)-1]
}

// authenticate puts the signed-in customer in the request's context. A
// real shop checks a session cookie; this demo trusts the X-Demo-Customer
// header.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Demo-Customer"); id != "" {
			r = r.WithContext(dataward.WithActor(r.Context(), dataward.Actor{ID: id, Kind: dataward.ActorSubject}))
		}
		next.ServeHTTP(w, r)
	})
}

// signedIn returns the customer a request comes from, if signed in.
func signedIn(r *http.Request) (dataward.SubjectID, bool) {
	a, ok := dataward.ActorFrom(r.Context())
	if !ok || a.Kind != dataward.ActorSubject || a.ID == "" {
		return "", false
	}
	return dataward.SubjectID(a.ID), true
}

// jurisdiction returns where a request comes from. A real shop asks a
// geo-IP database or the customer's address; this one sells in South
// Africa only.
func jurisdiction(*http.Request) string { return "ZA" }

// thirdPartyCheck is what an auditor runs on an exported proof, with
// nothing of the shop's but the log's public key: Proof.Verify recomputes
// every record's digest, finds it in the record's audit event, and checks
// the event's inclusion proof against the signed checkpoint. It returns the
// first record made by method.
func thirdPartyCheck(publicKey string, proofJSON []byte, method consent.Method) (consent.ProofRecord, error) {
	var p consent.Proof
	if err := json.Unmarshal(proofJSON, &p); err != nil {
		return consent.ProofRecord{}, err
	}
	if err := p.Verify(publicKey); err != nil {
		return consent.ProofRecord{}, err
	}
	for _, pr := range p.Records {
		if pr.Method == method {
			return pr, nil
		}
	}
	return consent.ProofRecord{}, fmt.Errorf("no record made by %s", method)
}

// caller plays the customer's browser and mail client, and prints each
// exchange; the first error sticks.
type caller struct {
	base string
	http *http.Client
	err  error
}

func (c *caller) do(method, path, body string, h http.Header) string {
	if c.err != nil {
		return ""
	}
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.err = err
		return ""
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (demo browser)")
	resp, err := c.http.Do(req)
	if err != nil {
		c.err = err
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.err = err
		return ""
	}
	answer := strings.TrimSpace(string(b))
	shown := answer
	switch {
	case strings.HasPrefix(answer, "<!doctype html>"):
		shown = "(a page" + pageText(answer) + ")"
	case answer == "":
		shown = "(no body)"
	}
	var extra string
	if h.Get("Sec-GPC") != "" {
		extra = " [Sec-GPC: 1]"
	}
	fmt.Printf("       %-4s %-38s -> %d %s%s\n", method, short(path, 38), resp.StatusCode, shown, extra)
	return answer
}

// pageText sums up an HTML page by its paragraph or button.
func pageText(html string) string {
	for _, tag := range []string{"<p>", "<button type=\"submit\">"} {
		if i := strings.Index(html, tag); i >= 0 {
			rest := html[i+len(tag):]
			return ": " + short(strings.TrimSpace(rest[:strings.IndexByte(rest, '<')]), 50)
		}
	}
	return ""
}

func withGPC(h http.Header) http.Header {
	h = h.Clone()
	h.Set("Sec-GPC", "1")
	return h
}

func formHeader(h http.Header) http.Header {
	h = h.Clone()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

func printPurposes(ps []consent.Purpose) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for _, p := range ps {
		var notes []string
		if p.Validity > 0 {
			notes = append(notes, "valid "+days(p.Validity))
		}
		if p.GPC {
			notes = append(notes, "GPC")
		}
		var versions []string
		for _, n := range p.Notices {
			versions = append(versions, fmt.Sprintf("%s v%d", n.ID, n.Version))
		}
		fmt.Fprintf(tw, "       %s\t%s, %s\t%v\t%s\t%s\n", p.Key, p.Basis, p.Mechanism, p.Channels, strings.Join(versions, ", "), strings.Join(notes, ", "))
	}
	tw.Flush()
}

// days writes d in years or days.
func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n%365 == 0 {
		return fmt.Sprintf("%d years", n/365)
	}
	return fmt.Sprintf("%d days", n)
}

func printState(ctx context.Context, l *consent.Ledger, subject dataward.SubjectID, purpose string) error {
	d, err := l.Allowed(ctx, subject, purpose)
	if err != nil {
		return err
	}
	fmt.Printf("       Allowed(%s, %s) = %v, %s%s\n", subject, purpose, d.Allowed, d.Reason, until(d))
	return nil
}

func printStates(ctx context.Context, l *consent.Ledger, subject dataward.SubjectID) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for _, p := range l.Purposes() {
		d, err := l.Allowed(ctx, subject, p.Key)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "       %s\t%v\t%s%s\n", p.Key, d.Allowed, d.Reason, until(d))
	}
	return tw.Flush()
}

func until(d consent.Decision) string {
	if d.Expires.IsZero() {
		return ""
	}
	return " until " + d.Expires.Format(time.DateOnly)
}

func printRecords(recs []consent.ProofRecord) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "       seq\tpurpose\tkind\tmethod\tnotice\tevidence\taudit\tnote")
	for _, r := range recs {
		notice, ev, idx := "-", "-", "-"
		if !r.Notice.IsZero() {
			notice = fmt.Sprintf("%s v%d", r.Notice.ID, r.Notice.Version)
		}
		if r.OpenedEvidence != nil { // ProofOptions.OpenEvidence; r.Evidence keeps the sealed form
			ev = r.OpenedEvidence.IP
		}
		if r.Audit != nil {
			idx = fmt.Sprintf("#%d", r.Audit.Index)
		}
		fmt.Fprintf(tw, "       %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Purpose, r.Kind, r.Method, notice, ev, idx, short(r.Note, 30))
	}
	tw.Flush()
}

// firstRecordJSON returns the first record of a proof's JSON, with the
// long values shortened.
func firstRecordJSON(proofJSON []byte) string {
	var p struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(proofJSON, &p); err != nil || len(p.Records) == 0 {
		return "(none)"
	}
	r := p.Records[0]
	if a, ok := r["audit"].(map[string]any); ok {
		a["data"] = short(fmt.Sprint(a["data"]), 24)
		if proof, ok := a["proof"].([]any); ok {
			a["proof"] = fmt.Sprintf("[%d hashes]", len(proof))
		}
	}
	if ev, ok := r["evidence"].(map[string]any); ok {
		for k, v := range ev {
			ev[k] = short(fmt.Sprint(v), 24)
		}
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
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

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… (%d more lines)", len(lines)-n)
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}
