package consent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
)

// The examples run on a fixed clock, so that the times they print do not
// change.
var exampleClock = dataward.ClockFunc(func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) })

// exampleNoticeText is the text shown beside the newsletter checkbox; the
// ledger keeps its hash, so that the record proves what the person read.
const exampleNoticeText = "Send me the Example Shop newsletter by e-mail, about once a month. " +
	"You can unsubscribe at any time with the link in every newsletter."

// exampleNewsletter is an opt-in purpose: nothing may be sent before the
// person agrees, and their consent lasts two years.
func exampleNewsletter() consent.Purpose {
	return consent.Purpose{
		Key:         "marketing.communications.email",
		Description: "The monthly newsletter",
		Basis:       consent.BasisConsent,
		Mechanism:   consent.OptIn,
		Channels:    []consent.Channel{consent.ChannelEmail},
		Validity:    2 * 365 * 24 * time.Hour,
		Notices:     []consent.Notice{consent.NewNotice("newsletter-signup", 1, "en", exampleNoticeText, false)},
	}
}

// A check answers from memory whether a person's data may be used for a
// purpose now, and why; it follows every choice recorded.
func ExampleLedger_Allowed() {
	ctx := context.Background()
	ledger, err := consent.New(consent.NewMemStore(), &consent.Options{Clock: exampleClock}) // or db.ConsentStore() from package sqlstore
	if err != nil {
		log.Fatal(err)
	}
	purpose := exampleNewsletter()
	if err := ledger.Register(purpose); err != nil {
		log.Fatal(err)
	}
	check := func() {
		d, err := ledger.Allowed(ctx, "cust-42", purpose.Key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(d.Allowed, " ", d.Reason)
		if !d.Expires.IsZero() {
			fmt.Print(" until ", d.Expires.Format(time.DateOnly))
		}
		fmt.Println()
	}

	check()
	_, err = ledger.Give(ctx, consent.Choice{
		Subject: "cust-42",
		Purpose: purpose.Key,
		Notice:  purpose.Notices[0].Ref(), // the notice version shown
	})
	if err != nil {
		log.Fatal(err)
	}
	check()
	if _, err := ledger.Withdraw(ctx, consent.Choice{Subject: "cust-42", Purpose: purpose.Key}); err != nil {
		log.Fatal(err)
	}
	check()
	// Output:
	// false no_record
	// true given until 2028-03-01
	// false withdrawn
}

// Double opt-in: the sign-up records a request and sends the person a
// link with a token; consent counts once they follow it, and the link works
// only once.
func ExampleLedger_RequestConfirmation() {
	ctx := context.Background()
	tokenKey := make([]byte, 32) // in production: a secret kept stable across restarts
	rand.Read(tokenKey)
	ledger, err := consent.New(consent.NewMemStore(), &consent.Options{Clock: exampleClock, TokenKey: tokenKey})
	if err != nil {
		log.Fatal(err)
	}
	purpose := exampleNewsletter()
	if err := ledger.Register(purpose); err != nil {
		log.Fatal(err)
	}

	req, token, err := ledger.RequestConfirmation(ctx, consent.Choice{
		Subject: "cust-42",
		Purpose: purpose.Key,
		Notice:  purpose.Notices[0].Ref(),
	})
	if err != nil {
		log.Fatal(err)
	}
	d, _ := ledger.Allowed(ctx, "cust-42", purpose.Key)
	fmt.Println(req.Kind, "->", d.Allowed, d.Reason)

	// The link sent is, say, https://shop.example/confirm?t=<token>; its
	// handler confirms with the evidence of the click.
	rec, err := ledger.Confirm(ctx, token, consent.Evidence{})
	if err != nil {
		log.Fatal(err)
	}
	d, _ = ledger.Allowed(ctx, "cust-42", purpose.Key)
	fmt.Println(rec.Kind, rec.Method, rec.Notice.ID, "->", d.Allowed, d.Reason)

	_, err = ledger.Confirm(ctx, token, consent.Evidence{})
	fmt.Println(errors.Is(err, consent.ErrTokenUsed))
	// Output:
	// requested -> false pending
	// given double_opt_in newsletter-signup -> true given
	// true
}

// A marketing e-mail carries List-Unsubscribe headers; a mail client that
// offers one-click unsubscribe POSTs to the link (RFC 8058), which
// withdraws at once.
func ExampleLedger_UnsubscribeHeaders() {
	ctx := context.Background()
	tokenKey := make([]byte, 32)
	rand.Read(tokenKey)
	ledger, err := consent.New(consent.NewMemStore(), &consent.Options{
		Clock:    exampleClock,
		TokenKey: tokenKey,
		// The handler keeps the client's address and user agent as evidence
		// of the click: encrypted with a Sealer, or, here, as a keyed hash.
		HashKey: []byte("a 32-byte secret, kept elsewhere"),
	})
	if err != nil {
		log.Fatal(err)
	}
	purpose := exampleNewsletter()
	if err := ledger.Register(purpose); err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Give(ctx, consent.Choice{Subject: "cust-42", Purpose: purpose.Key, Notice: purpose.Notices[0].Ref()}); err != nil {
		log.Fatal(err)
	}

	// Sending the newsletter: the headers go into the message.
	headers, err := ledger.UnsubscribeHeaders("https://shop.example/unsubscribe", "cust-42", purpose.Key)
	if err != nil {
		log.Fatal(err)
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Println(name+":", exampleHideToken(headers[name]))
	}

	// The host serves the links; here its handler is called in-process with
	// the request a mail client sends.
	mux := http.NewServeMux()
	mux.Handle("/unsubscribe", ledger.UnsubscribeHandler())
	link := strings.Trim(headers["List-Unsubscribe"], "<>")
	r := httptest.NewRequest(http.MethodPost, link, strings.NewReader(headers["List-Unsubscribe-Post"]))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)

	d, _ := ledger.Allowed(ctx, "cust-42", purpose.Key)
	fmt.Println(w.Code, d.Allowed, d.Reason)
	// Output:
	// List-Unsubscribe: <https://shop.example/unsubscribe?t=…>
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// 200 false withdrawn
}

// exampleHideToken hides the token of an unsubscribe link, which changes every run.
func exampleHideToken(h string) string {
	if i := strings.Index(h, "?t="); i >= 0 {
		return h[:i+3] + "…>"
	}
	return h
}

// The GPC middleware honours the Global Privacy Control signal: a request
// with "Sec-GPC: 1" from a known person opts them out of every purpose
// registered with GPC set.
func ExampleGPC() {
	ctx := context.Background()
	ledger, err := consent.New(consent.NewMemStore(), &consent.Options{
		Clock:   exampleClock,
		HashKey: []byte("a 32-byte secret, kept elsewhere"), // the signal's evidence is kept as a keyed hash
	})
	if err != nil {
		log.Fatal(err)
	}
	ads := consent.Purpose{
		Key:       "marketing.advertising.third_party.targeted",
		Basis:     consent.BasisLegitimateInterests,
		Mechanism: consent.OptOut, // allowed until the person says no
		Channels:  []consent.Channel{consent.ChannelWeb},
		GPC:       true,
	}
	if err := ledger.Register(ads); err != nil {
		log.Fatal(err)
	}

	// The host knows who is signed in; this demo trusts a header.
	signedIn := func(r *http.Request) (dataward.SubjectID, bool) {
		id := r.Header.Get("X-Demo-Customer")
		return dataward.SubjectID(id), id != ""
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject, _ := signedIn(r)
		d, _ := ledger.Allowed(r.Context(), subject, ads.Key)
		fmt.Fprintf(w, "show targeted ads: %v", d.Allowed)
	})
	handler := consent.GPC(ledger, consent.GPCOptions{Subject: signedIn})(page)

	for _, gpc := range []string{"", "1"} {
		r := httptest.NewRequest(http.MethodGet, "/account", nil)
		r.Header.Set("X-Demo-Customer", "cust-42")
		if gpc != "" {
			r.Header.Set("Sec-GPC", gpc)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Printf("Sec-GPC %q: %s\n", gpc, w.Body)
	}

	history, err := ledger.History(ctx, "cust-42")
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range history {
		fmt.Println(rec.Seq, rec.Purpose, rec.Kind, rec.Method)
	}
	// Output:
	// Sec-GPC "": show targeted ads: true
	// Sec-GPC "1": show targeted ads: false
	// 1 marketing.advertising.third_party.targeted withdrawn gpc
}

// Proof exports everything the ledger holds about a person's choices, to
// show a regulator or the person: as JSON, as ISO/IEC TS 27560 consent
// records, or as Kantara consent receipts.
func ExampleLedger_Proof() {
	ctx := context.Background()
	ledger, err := consent.New(consent.NewMemStore(), &consent.Options{Clock: exampleClock})
	if err != nil {
		log.Fatal(err)
	}
	purpose := exampleNewsletter()
	if err := ledger.Register(purpose); err != nil {
		log.Fatal(err)
	}
	ctx = dataward.WithActor(ctx, dataward.Actor{ID: "cust-42", Kind: dataward.ActorSubject})
	choice := consent.Choice{Subject: "cust-42", Purpose: purpose.Key, Notice: purpose.Notices[0].Ref(), Jurisdiction: "ZA"}
	if _, err := ledger.Give(ctx, choice); err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Withdraw(ctx, choice); err != nil {
		log.Fatal(err)
	}

	// With Options.Audit and ProofOptions.Checkpoint, each record also
	// comes with its audit event and inclusion proof.
	proof, err := ledger.Proof(ctx, "cust-42", &consent.ProofOptions{
		Controller: consent.Controller{Name: "Example Shop (Pty) Ltd", Email: "privacy@shop.example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := proof.WriteJSON(&buf); err != nil {
		log.Fatal(err)
	}
	var exported struct {
		Subject string
		Records []struct {
			Kind, Method, Digest string
			Time                 time.Time
		}
		States map[string]string
	}
	if err := json.Unmarshal(buf.Bytes(), &exported); err != nil {
		log.Fatal(err)
	}
	fmt.Println(exported.Subject, len(exported.Records), "records")
	for _, r := range exported.Records {
		fmt.Println(r.Time.Format(time.RFC3339), r.Kind, r.Method, strings.HasPrefix(r.Digest, consent.DigestPrefix))
	}
	fmt.Println(exported.States)
	// Output:
	// cust-42 2 records
	// 2026-03-02T09:30:00Z given form true
	// 2026-03-02T09:30:00Z withdrawn form true
	// map[marketing.communications.email:withdrawn]
}
