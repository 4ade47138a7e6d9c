package consent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/pii"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

func TestProofIsVouchedForByTheAuditLog(t *testing.T) {
	ctx := dataward.WithActor(context.Background(), dataward.Actor{ID: "web", Kind: dataward.ActorService})
	skey, pub, err := note.GenerateKey(rand.Reader, "consent.example.com")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	kek, err := aead.New(h)
	require.NoError(t, err)
	keyring, err := pii.NewKeyring(kek, pii.NewMemKeyStore(), nil)
	require.NoError(t, err)
	astore := audit.NewMemStore()
	alog, err := audit.New(astore, &audit.Options{HashKey: bytes.Repeat([]byte{7}, 32), Signer: signer, Sealer: keyring})
	require.NoError(t, err)
	f := newLedger(t, &consent.Options{Audit: alog, Sealer: keyring})

	ev := consent.Evidence{IP: "203.0.113.5", UserAgent: "Firefox"}
	g, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1", Evidence: ev, Jurisdiction: "ZA"}))
	require.NoError(t, err)
	assert.NotContains(t, g.Evidence.IP, "203.0.113.5", "sealed, not clear")
	_, err = f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email, Method: consent.MethodUnsubscribe})
	require.NoError(t, err)
	_, err = f.l.Give(ctx, give(consent.Choice{Subject: "u2"}))
	require.NoError(t, err)
	cp, err := alog.Checkpoint(ctx)
	require.NoError(t, err)

	p, err := f.l.Proof(ctx, "u1", &consent.ProofOptions{Checkpoint: &cp, OpenEvidence: true, Controller: consent.Controller{Name: "Acme (Pty) Ltd"}})
	require.NoError(t, err)
	require.Len(t, p.Records, 2, "only u1's records")
	assert.Equal(t, consent.ReasonWithdrawn, p.States[email])
	require.NotNil(t, p.Records[0].OpenedEvidence)
	assert.Equal(t, ev, *p.Records[0].OpenedEvidence, "opened for the person's own request")
	assert.Nil(t, p.Records[1].OpenedEvidence, "no evidence, nothing opened")
	for _, r := range p.Records {
		require.NotNil(t, r.Audit, r.ID)
		assert.Equal(t, r.Record.Digest(), r.Digest)
		require.NoError(t, audit.CheckInclusion(pub, cp.Note, r.Audit.Index, r.Audit.Data, r.Audit.Proof))
	}
	require.NoError(t, p.Verify(pub))
	// A proof altered after export no longer verifies.
	forged := *p
	forged.Records = append([]consent.ProofRecord(nil), p.Records...)
	forged.Records[1].Kind = consent.Given
	require.ErrorContains(t, forged.Verify(pub), "does not match its digest")
	forged.Records[1].Digest = forged.Records[1].Record.Digest()
	require.ErrorContains(t, forged.Verify(pub), "does not carry its digest")
	require.Error(t, p.Verify("consent.example.com+00000000+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "another key")
	// The audit events carry the records' digests.
	evs, _, err := alog.Query(ctx, audit.Query{Subject: "u1", ResourceType: "consent.purpose"})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	for i, e := range evs {
		assert.Equal(t, p.Records[i].ID, e.ID)
		assert.Equal(t, "consent."+string(p.Records[i].Kind), e.Action)
		assert.Contains(t, e.Metadata, audit.Attr{Key: "digest", Value: p.Records[i].Digest})
		assert.NotContains(t, string(e.Data), "203.0.113.5", "no clear evidence in the audit log")
	}

	// The three exports are JSON of the expected shape.
	var buf bytes.Buffer
	require.NoError(t, p.WriteJSON(&buf))
	var back consent.Proof
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Len(t, back.Records, 2)
	assert.Equal(t, p.Records[1].Digest, back.Records[1].Record.Digest(), "a verifier recomputes the digest from the export")

	buf.Reset()
	require.NoError(t, p.WriteISO27560(&buf))
	var iso struct {
		Context map[string]string `json:"@context"`
		Graph   []struct {
			Type   string           `json:"@type"`
			Basis  string           `json:"dpv:hasLegalBasis"`
			Status string           `json:"dpv:hasConsentStatus"`
			Events []map[string]any `json:"dpv:hasEvent"`
		} `json:"@graph"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &iso))
	require.Len(t, iso.Graph, 1)
	assert.Equal(t, "dpv:ConsentRecord", iso.Graph[0].Type)
	assert.Equal(t, "eu-gdpr:A6-1-a", iso.Graph[0].Basis)
	assert.Equal(t, "dpv:ConsentWithdrawn", iso.Graph[0].Status)
	assert.Len(t, iso.Graph[0].Events, 2)
	assert.Equal(t, "https://w3id.org/dpv#", iso.Context["dpv"])

	buf.Reset()
	require.NoError(t, p.WriteKantara(&buf))
	var receipts []map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &receipts))
	require.Len(t, receipts, 1, "one receipt per consent given")
	assert.Equal(t, "KI-CR-v1.1.0", receipts[0]["version"])
	assert.Equal(t, "u1", receipts[0]["piiPrincipalId"])
	assert.Equal(t, "ZA", receipts[0]["jurisdiction"])

	// After the subject is shredded, the evidence reads as erased and the
	// audit log still verifies.
	_, err = keyring.Shred(ctx, "u1")
	require.NoError(t, err)
	p, err = f.l.Proof(ctx, "u1", &consent.ProofOptions{OpenEvidence: true})
	require.NoError(t, err)
	assert.Equal(t, audit.Erased, p.Records[0].OpenedEvidence.IP)
	_, err = audit.Verify(ctx, astore, nil)
	require.NoError(t, err)
}
