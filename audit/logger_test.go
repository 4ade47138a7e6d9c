package audit_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

var ctx = context.Background()

type fixture struct {
	store     *audit.MemStore
	log       *audit.Logger
	publicKey string
}

func newFixture(t testing.TB, opts *audit.Options) fixture {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.example.com")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	var o audit.Options
	if opts != nil {
		o = *opts
	}
	o.Signer = signer
	if o.HashKey == nil {
		o.HashKey = []byte("0123456789abcdef0123456789abcdef")
	}
	store := audit.NewMemStore()
	l, err := audit.New(store, &o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return fixture{store: store, log: l, publicKey: vkey}
}

func TestRecordQueryProve(t *testing.T) {
	f := newFixture(t, nil)
	actx := dataward.WithActor(ctx, dataward.Actor{ID: "staff-7", Kind: dataward.ActorUser, SourceIP: "198.51.100.7"})
	for i := range 10 {
		require.NoError(t, f.log.Record(actx, audit.Event{
			Action:   "customer.update",
			Subject:  dataward.SubjectID(fmt.Sprint("cust-", i%3)),
			Resource: audit.Resource{Type: "customer", ID: fmt.Sprint("cust-", i%3)},
			Changes:  []audit.Change{{Field: "email", Before: "a***@example.com", After: "b***@example.com"}},
		}))
	}
	c, err := f.log.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(10), c.Size)

	events, next, err := f.log.Query(ctx, audit.Query{Subject: "cust-1", Proofs: true, Checkpoint: &c})
	require.NoError(t, err)
	assert.Zero(t, next)
	require.Len(t, events, 3)
	for _, e := range events {
		assert.Equal(t, "staff-7", e.Actor.ID)
		assert.Contains(t, e.Actor.SourceIP, audit.HashPrefix, "the IP address is stored as a keyed hash")
		assert.Contains(t, string(e.Subject), audit.HashPrefix)
		assert.Contains(t, e.Changes[0].Before, audit.HashPrefix, "no Sealer: a secret value is stored as a keyed hash")
		require.NoError(t, audit.CheckInclusion(f.publicKey, c.Note, e.Index, e.Data, e.Proof))
		assert.ErrorIs(t, audit.CheckInclusion(f.publicKey, c.Note, e.Index+1, e.Data, e.Proof), audit.ErrProof)
	}

	for range 5 {
		require.NoError(t, f.log.Record(actx, audit.Event{Action: "auth.login"}))
	}
	c2, err := f.log.Checkpoint(ctx)
	require.NoError(t, err)
	p, err := f.log.ProveConsistency(ctx, c, c2)
	require.NoError(t, err)
	require.NoError(t, audit.CheckConsistency(f.publicKey, c.Note, c2.Note, p))
}

func TestRecordValidation(t *testing.T) {
	f := newFixture(t, nil)
	err := f.log.Record(ctx, audit.Event{Outcome: "maybe", Metadata: []audit.Attr{{Key: "k", Value: string(make([]byte, 2000))}}})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "action is required")
	assert.Contains(t, err.Error(), "outcome must be")
	assert.Contains(t, err.Error(), "metadata[k] is longer than 1024 bytes")
	n, _ := f.store.Size(ctx)
	assert.Zero(t, n, "nothing stored")
}

// The names of changes and metadata hold no control character: a NUL
// would blur a name with the value after it in a keyed hash's input, so
// that two different fields could be given the same hash.
func TestRecordRefusesControlCharactersInNames(t *testing.T) {
	f := newFixture(t, nil)
	for _, e := range []audit.Event{
		{Action: "a", Changes: []audit.Change{{Field: "email\x00x", Before: "a", After: "b"}}},
		{Action: "a", Metadata: []audit.Attr{{Key: "route\n", Value: "v"}}},
		{Action: "a", Metadata: []audit.Attr{{Key: "k\u0085", Value: "v", Sensitivity: audit.Sensitive}}},
	} {
		err := f.log.Record(ctx, e)
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Contains(t, err.Error(), "control character")
	}
	n, _ := f.store.Size(ctx)
	assert.Zero(t, n, "nothing stored")
}

func TestConcurrentRecords(t *testing.T) {
	f := newFixture(t, &audit.Options{CheckpointEvery: 100})
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 200 {
				if err == nil {
					err = f.log.Record(ctx, audit.Event{Action: "test.event", RequestID: fmt.Sprint(g, "-", i)})
				}
			}
			done <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-done)
	}
	require.NoError(t, f.log.Close(ctx))
	n, _ := f.store.Size(ctx)
	assert.Equal(t, int64(1600), n)
	c, err := f.store.LatestCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1600), c.Size)
	_ = time.Second
}

// Several Loggers sharing one store, as replicas share a database, append
// to one consistent log.
func TestLoggersSharingAStore(t *testing.T) {
	store := audit.NewMemStore()
	skey, vkey, err := note.GenerateKey(rand.Reader, "shared.example.com")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	done := make(chan error)
	for r := range 3 {
		l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Signer: signer, CheckpointEvery: 50})
		require.NoError(t, err)
		for g := range 3 {
			go func() {
				var err error
				for i := range 100 {
					if err == nil {
						err = l.Record(ctx, audit.Event{Action: "test.event", RequestID: fmt.Sprint(r, "-", g, "-", i)})
					}
				}
				done <- err
			}()
		}
		t.Cleanup(func() { _ = l.Close(ctx) })
	}
	for range 9 {
		require.NoError(t, <-done)
	}
	report, err := audit.Verify(ctx, store, &audit.VerifyOptions{PublicKey: vkey})
	require.NoError(t, err)
	assert.Equal(t, int64(900), report.Size)
	assert.Positive(t, report.Checkpoints)
}
