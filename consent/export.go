package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// ProofOptions configure [Ledger.Proof].
type ProofOptions struct {
	// Checkpoint, if set, is a signed audit checkpoint: each record's audit
	// event comes with its inclusion proof against it. It must cover the
	// events (take it after the last record).
	Checkpoint *audit.Checkpoint
	// OpenEvidence opens sealed evidence (for the person's own access
	// request). By default evidence stays in its stored form.
	OpenEvidence bool
	// Controller names the organisation responsible, for the receipts.
	Controller Controller
}

// Controller is the organisation that decides what is done with the
// personal data (the "responsible party" of POPIA), as consent receipts
// name it.
type Controller struct {
	Name      string `json:"name"`
	Contact   string `json:"contact,omitempty"`
	Address   string `json:"address,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	URL       string `json:"url,omitempty"`
	PolicyURL string `json:"policy_url,omitempty"`
}

// Proof is everything the ledger holds about one subject's choices, with
// the audit events that vouch for each record: what a host shows a
// regulator, or the person, to prove consent (GDPR Art. 7(1)).
type Proof struct {
	Tenant     string             `json:"tenant,omitempty"`
	Subject    dataward.SubjectID `json:"subject"`
	Generated  time.Time          `json:"generated"`
	Controller Controller         `json:"controller,omitzero"`
	// Purposes are the registered purposes the records are about, with
	// their notices.
	Purposes []Purpose         `json:"purposes"`
	Records  []ProofRecord     `json:"records"`
	States   map[string]Reason `json:"states"` // each purpose's current state
	// Checkpoint is the signed audit checkpoint the inclusion proofs are
	// against, if one was given.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// ProofRecord is a ledger record with the audit event that vouches for it.
type ProofRecord struct {
	Record
	// Digest is the record's [Record.Digest], which its audit event carries.
	Digest string `json:"digest"`
	// OpenedEvidence is the evidence in clear, when ProofOptions.OpenEvidence
	// was set and it could be opened ("[erased]" after the subject was
	// shredded). Record.Evidence keeps the stored form, which the digest
	// covers.
	OpenedEvidence *Evidence `json:"opened_evidence,omitempty"`
	// Audit is the record's audit event, if the Ledger has an audit log and
	// the event was found.
	Audit *AuditRef `json:"audit,omitempty"`
}

// AuditRef locates a record's event in the tamper-evident audit log.
type AuditRef struct {
	Index int64 `json:"index"`
	// Data is the event's canonical encoding, which the log's Merkle tree
	// commits to (check it with audit.CheckInclusion).
	Data []byte `json:"data"`
	// Proof is the event's inclusion proof against the Proof's checkpoint.
	Proof tlog.RecordProof `json:"proof,omitempty"`
}

// Proof returns subject's full history with, when the Ledger has an audit
// log, the audit event of each record (and its inclusion proof, given a
// checkpoint). Write it with [Proof.WriteJSON], [Proof.WriteISO27560] or
// [Proof.WriteKantara].
func (l *Ledger) Proof(ctx context.Context, subject dataward.SubjectID, opts *ProofOptions) (*Proof, error) {
	var o ProofOptions
	if opts != nil {
		o = *opts
	}
	recs, err := l.History(ctx, subject)
	if err != nil {
		return nil, err
	}
	reg := l.reg.Load()
	p := &Proof{Tenant: l.tenant, Subject: subject, Generated: l.clock.Now().UTC(), Controller: o.Controller, States: map[string]Reason{}}
	events, err := l.auditEvents(ctx, subject, o.Checkpoint)
	if err != nil {
		return nil, err
	}
	if o.Checkpoint != nil {
		p.Checkpoint = string(o.Checkpoint.Note)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		pr := ProofRecord{Record: r, Digest: r.Digest()}
		if ev, ok := events[r.ID]; ok {
			pr.Audit = &AuditRef{Index: ev.Index, Data: ev.Data, Proof: ev.Proof}
		}
		if o.OpenEvidence && l.sealer != nil && !r.Evidence.IsZero() {
			pr.OpenedEvidence = &Evidence{
				IP:        l.openEvidence(ctx, subject, "consent.evidence.ip", r.Evidence.IP),
				UserAgent: l.openEvidence(ctx, subject, "consent.evidence.user_agent", r.Evidence.UserAgent),
			}
		}
		p.Records = append(p.Records, pr)
		if !seen[r.Purpose] {
			seen[r.Purpose] = true
			if i, ok := reg.index[r.Purpose]; ok {
				p.Purposes = append(p.Purposes, reg.purposes[i].Purpose)
			}
		}
	}
	for _, rp := range reg.purposes {
		d, err := l.Allowed(ctx, subject, rp.Key)
		if err != nil {
			return nil, err
		}
		p.States[rp.Key] = d.Reason
	}
	return p, nil
}

func (l *Ledger) openEvidence(ctx context.Context, subject dataward.SubjectID, field, v string) string {
	if v == "" || len(v) > 3 && v[:3] == audit.HashPrefix {
		return v
	}
	s, err := l.sealer.OpenString(ctx, subject, field, v)
	switch {
	case errors.Is(err, dataward.ErrErased):
		return audit.Erased
	case err != nil:
		return audit.Sealed
	}
	return s
}

// auditEvents returns the consent events of subject in the audit log, by
// event ID.
func (l *Ledger) auditEvents(ctx context.Context, subject dataward.SubjectID, cp *audit.Checkpoint) (map[string]audit.StoredEvent, error) {
	out := map[string]audit.StoredEvent{}
	if l.audit == nil {
		return out, nil
	}
	q := audit.Query{Subject: subject, ResourceType: "consent.purpose", Limit: 10000, Proofs: cp != nil, Checkpoint: cp}
	for {
		evs, next, err := l.audit.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("consent: reading the audit log: %w", err)
		}
		for _, e := range evs {
			out[e.ID] = e
		}
		if next == 0 {
			return out, nil
		}
		q.Start = next
	}
}

// WriteJSON writes p as indented JSON.
func (p *Proof) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// gdprBasis maps a lawful basis to its GDPR article in the DPV legal
// extension (eu-gdpr:A6-1-a and so on).
var gdprBasis = map[LawfulBasis]string{
	BasisConsent:             "eu-gdpr:A6-1-a",
	BasisContract:            "eu-gdpr:A6-1-b",
	BasisLegalObligation:     "eu-gdpr:A6-1-c",
	BasisVitalInterests:      "eu-gdpr:A6-1-d",
	BasisPublicTask:          "eu-gdpr:A6-1-e",
	BasisLegitimateInterests: "eu-gdpr:A6-1-f",
}

// dpvStatus maps a record kind to a DPV consent status.
var dpvStatus = map[Kind]string{
	Given:     "dpv:ConsentGiven",
	Renewed:   "dpv:RenewedConsentGiven",
	Refused:   "dpv:ConsentRefused",
	Withdrawn: "dpv:ConsentWithdrawn",
	Objected:  "dpv:ConsentWithdrawn", // an objection ends the processing as a withdrawal does
	Expired:   "dpv:ConsentExpired",
	Requested: "dpv:ConsentRequested",
	Signal:    "dpv:ConsentStatus",
}

// WriteISO27560 writes p as consent records after ISO/IEC TS 27560:2023, in
// the JSON-LD shape of the W3C DPV guide
// (https://w3id.org/dpv/guides/consent-27560): one dpv:ConsentRecord per
// purpose, its current status, and its history as events, each carrying the
// ledger record's ID and digest.
func (p *Proof) WriteISO27560(w io.Writer) error {
	type event struct {
		ID       string `json:"dct:identifier"`
		Status   string `json:"dpv:hasConsentStatus"`
		Created  string `json:"dct:created"`
		Method   string `json:"dpv:hasIndicationMethod"`
		Notice   any    `json:"dpv:hasNotice,omitempty"`
		Actor    string `json:"dpv:hasEntity,omitempty"`
		Expires  string `json:"dpv:hasExpiryTime,omitempty"`
		Digest   string `json:"dct:source"`
		Note     string `json:"dct:description,omitempty"`
		Audit    *int64 `json:"dw:auditIndex,omitempty"`
		Kind     Kind   `json:"dw:kind"`
		Jurisdic string `json:"dpv:hasJurisdiction,omitempty"`
	}
	type record struct {
		ID         string            `json:"@id"`
		Type       string            `json:"@type"`
		Identifier string            `json:"dct:identifier"`
		ConformsTo string            `json:"dct:conformsTo"`
		Subject    map[string]string `json:"dpv:hasDataSubject"`
		Controller string            `json:"dpv:hasDataController,omitempty"`
		Law        []string          `json:"dpv:hasApplicableLaw"`
		Basis      string            `json:"dpv:hasLegalBasis"`
		Process    map[string]any    `json:"dpv:hasProcess"`
		Status     string            `json:"dpv:hasConsentStatus"`
		Created    string            `json:"dct:created"`
		Modified   string            `json:"dct:modified"`
		Events     []event           `json:"dpv:hasEvent"`
	}
	var out []record
	for _, pu := range p.Purposes {
		var r *record
		for _, pr := range p.Records {
			if pr.Purpose != pu.Key {
				continue
			}
			if r == nil {
				out = append(out, record{
					ID: recordURN(p.Tenant, p.Subject, pu.Key), Type: "dpv:ConsentRecord",
					Identifier: pr.ID, ConformsTo: "https://w3id.org/dpv/schema/dpv-27560#record",
					Subject:    map[string]string{"@id": string(p.Subject), "@type": "dpv:DataSubject"},
					Controller: p.Controller.Name, Law: []string{"eu-gdpr:GDPR", "za-popia:POPIA"}, Basis: gdprBasis[pu.Basis],
					Process: map[string]any{"@type": "dpv:Process", "dpv:hasPurpose": pu.Key, "dct:description": pu.Description, "dpv:hasChannel": pu.Channels},
					Created: pr.Time.Format(time.RFC3339Nano),
				})
				r = &out[len(out)-1]
			}
			ev := event{ID: pr.ID, Status: dpvStatus[pr.Kind], Created: pr.Time.Format(time.RFC3339Nano), Method: string(pr.Method),
				Actor: pr.ActorID, Digest: pr.Digest, Note: pr.Note, Kind: pr.Kind, Jurisdic: pr.Jurisdiction}
			if !pr.Notice.IsZero() {
				ev.Notice = pr.Notice
			}
			if !pr.Expires.IsZero() {
				ev.Expires = pr.Expires.Format(time.RFC3339Nano)
			}
			if pr.Audit != nil {
				ev.Audit = &pr.Audit.Index
			}
			r.Events = append(r.Events, ev)
			r.Modified = ev.Created
			if pr.Kind.decisive() {
				r.Status = ev.Status
			}
		}
		if r != nil && r.Status == "" {
			r.Status = "dpv:ConsentRequested"
		}
	}
	doc := map[string]any{
		"@context": map[string]string{
			"dpv": "https://w3id.org/dpv#", "dct": "http://purl.org/dc/terms/",
			"eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#", "za-popia": "https://w3id.org/dpv/legal/za#",
			"dw": "https://github.com/dataward/dataward/consent#",
		},
		"@graph": out,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// recordURN names the consent record of a subject and purpose:
// urn:dataward:consent:[tenant:]subject:purpose, with each part escaped.
func recordURN(tenant string, subject dataward.SubjectID, purpose string) string {
	s := "urn:dataward:consent:"
	if tenant != "" {
		s += url.PathEscape(tenant) + ":"
	}
	return s + url.PathEscape(string(subject)) + ":" + purpose
}

// Verify checks p as a third party can, with nothing but the audit log's
// public key: every record's digest is recomputed from the record, found in
// its audit event, and the event's inclusion in the log is checked against
// p's signed checkpoint. It returns the first failure, naming the record.
func (p *Proof) Verify(publicKey string) error {
	if p.Checkpoint == "" {
		return fmt.Errorf("consent: the proof has no checkpoint to verify against")
	}
	_, size, root, err := audit.OpenCheckpoint([]byte(p.Checkpoint), publicKey)
	if err != nil {
		return fmt.Errorf("consent: the proof's checkpoint: %w", err)
	}
	for _, r := range p.Records {
		digest := r.Record.Digest()
		switch {
		case digest != r.Digest:
			return fmt.Errorf("consent: record %d (%s) does not match its digest", r.Seq, r.ID)
		case r.Audit == nil:
			return fmt.Errorf("consent: record %d (%s) has no audit event", r.Seq, r.ID)
		case !bytes.Contains(r.Audit.Data, []byte(digest)):
			return fmt.Errorf("consent: the audit event of record %d (%s) does not carry its digest", r.Seq, r.ID)
		}
		if err := audit.CheckInclusionIn(size, root, r.Audit.Index, r.Audit.Data, r.Audit.Proof); err != nil {
			return fmt.Errorf("consent: the audit event of record %d (%s): %w", r.Seq, r.ID, err)
		}
	}
	return nil
}

// WriteKantara writes p as Kantara Initiative Consent Receipts v1.1 (a JSON
// array): one receipt for each consent given or renewed.
func (p *Proof) WriteKantara(w io.Writer) error {
	type purpose struct {
		Purpose              string   `json:"purpose"`
		PurposeCategory      []string `json:"purposeCategory"`
		ConsentType          string   `json:"consentType"`
		PIICategory          []string `json:"piiCategory"`
		PrimaryPurpose       bool     `json:"primaryPurpose"`
		Termination          string   `json:"termination"`
		ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	}
	type service struct {
		Service  string    `json:"service"`
		Purposes []purpose `json:"purposes"`
	}
	type controller struct {
		PIIController string `json:"piiController"`
		Contact       string `json:"contact"`
		Address       any    `json:"address"`
		Email         string `json:"email"`
		Phone         string `json:"phone"`
		URL           string `json:"piiControllerUrl,omitempty"`
	}
	type receipt struct {
		Version          string       `json:"version"`
		Jurisdiction     string       `json:"jurisdiction"`
		ConsentTimestamp int64        `json:"consentTimestamp"`
		CollectionMethod string       `json:"collectionMethod"`
		ConsentReceiptID string       `json:"consentReceiptID"`
		Language         string       `json:"language,omitempty"`
		PIIPrincipalID   string       `json:"piiPrincipalId"`
		PIIControllers   []controller `json:"piiControllers"`
		PolicyURL        string       `json:"policyUrl"`
		Services         []service    `json:"services"`
		Sensitive        bool         `json:"sensitive"`
		SPICat           []string     `json:"spiCat"`
	}
	out := []receipt{}
	for _, pr := range p.Records {
		if pr.Kind != Given && pr.Kind != Renewed {
			continue
		}
		i := slices.IndexFunc(p.Purposes, func(pu Purpose) bool { return pu.Key == pr.Purpose })
		if i < 0 {
			continue
		}
		pu := p.Purposes[i]
		term := "until withdrawn"
		if !pr.Expires.IsZero() {
			term = "until withdrawn, or " + pr.Expires.Format(time.RFC3339)
		}
		out = append(out, receipt{
			Version: "KI-CR-v1.1.0", Jurisdiction: pr.Jurisdiction, ConsentTimestamp: pr.Time.Unix(),
			CollectionMethod: string(pr.Method), ConsentReceiptID: pr.ID, Language: pr.Notice.Language,
			PIIPrincipalID: string(p.Subject),
			PIIControllers: []controller{{PIIController: p.Controller.Name, Contact: p.Controller.Contact, Address: p.Controller.Address,
				Email: p.Controller.Email, Phone: p.Controller.Phone, URL: p.Controller.URL}},
			PolicyURL: p.Controller.PolicyURL,
			Services: []service{{Service: pu.Key, Purposes: []purpose{{
				Purpose: pu.Description, PurposeCategory: []string{pu.Key}, ConsentType: "EXPLICIT",
				PIICategory: []string{}, PrimaryPurpose: pu.Basis != BasisConsent, Termination: term,
			}}}},
			SPICat: []string{},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
