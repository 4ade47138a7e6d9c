package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// A Logger records events; the actor comes from the request's context, the
// subject is stored as a keyed hash, and changed values are masked by the
// host before they reach the log.
func ExampleLogger_Record() {
	ctx := context.Background()
	store := audit.NewMemStore() // or db.AuditStore() from package sqlstore
	logger, err := audit.New(store, &audit.Options{
		HashKey: []byte("a 32-byte secret, kept elsewhere"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer logger.Close(ctx)

	ctx = dataward.WithActor(ctx, dataward.Actor{ID: "staff-7", Kind: dataward.ActorUser})
	err = logger.Record(ctx, audit.Event{
		Action:   "customer.update",
		Subject:  "cust-42",
		Resource: audit.Resource{Type: "customer", ID: "cust-42"},
		Changes:  []audit.Change{{Field: "email", Before: "z***@example.com", After: "n***@example.org"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	events, _, err := logger.Query(ctx, audit.Query{Subject: "cust-42"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Index, e.Action, e.Actor.ID, e.Outcome, e.Changes[0].Field)
	}
	// Output: 0 customer.update staff-7 success email
}

// Verify recomputes the Merkle tree of a log and checks it against its
// checkpoints; a checkpoint published outside the database also catches a
// truncated or rewritten log.
func ExampleVerify() {
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.example.com")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	store := audit.NewMemStore()
	logger, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Signer: signer})
	if err != nil {
		log.Fatal(err)
	}
	for _, action := range []string{"auth.login", "customer.read", "auth.logout"} {
		if err := logger.Record(ctx, audit.Event{Action: action}); err != nil {
			log.Fatal(err)
		}
	}
	published, err := logger.Checkpoint(ctx) // publish published.Note elsewhere
	if err != nil {
		log.Fatal(err)
	}

	report, err := audit.Verify(ctx, store, &audit.VerifyOptions{PublicKey: vkey, Trusted: [][]byte{published.Note}})
	fmt.Println(report.Size, err)

	var damage *audit.DamageError
	if errors.As(err, &damage) {
		fmt.Println("altered:", damage.Kind, "at", damage.Index)
	}
	// Output: 3 <nil>
}

// A third party holding only the log's public key checks that an event is
// in the log: the signed checkpoint, the event's encoding and its proof are
// all it needs.
func ExampleCheckInclusion() {
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.example.com")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	logger, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: make([]byte, 32), Signer: signer})
	if err != nil {
		log.Fatal(err)
	}
	for _, action := range []string{"auth.login", "pii.reveal", "auth.logout"} {
		if err := logger.Record(ctx, audit.Event{Action: action}); err != nil {
			log.Fatal(err)
		}
	}
	cp, err := logger.Checkpoint(ctx)
	if err != nil {
		log.Fatal(err)
	}
	events, _, err := logger.Query(ctx, audit.Query{Action: "pii.reveal", Proofs: true, Checkpoint: &cp})
	if err != nil {
		log.Fatal(err)
	}
	e := events[0]

	// What the auditor receives: vkey, cp.Note, e.Index, e.Data, e.Proof.
	fmt.Println(audit.CheckInclusion(vkey, cp.Note, e.Index, e.Data, e.Proof))
	// Output: <nil>
}
