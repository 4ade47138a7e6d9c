package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dataward/dataward"
)

// Tokens are signed, expiring capabilities put in links sent to a person:
// a double opt-in confirmation, or a one-click unsubscribe. A token is
// base64url(payload || mac), where the payload holds a version, its use,
// its expiry, the tenant, the subject, the purpose and a reference, and the
// mac is the first 16 bytes of HMAC-SHA256 under Options.TokenKey, domain
// separated. Tokens carry the subject id (which is opaque, never personal
// data: see dataward.SubjectID) but nothing else about the person.

const (
	tokenVersion   = 1
	tokenMACLen    = 16
	tokenDomain    = "dataward/consent/token\x00"
	useConfirm     = 'c'
	useUnsubscribe = 'u'
	maxTokenLen    = 2048
)

type token struct {
	use     byte
	expires int64 // Unix seconds
	tenant  string
	subject dataward.SubjectID
	purpose string // "" in an unsubscribe token: every purpose
	ref     string // the Requested record's ID, in a confirmation token
}

func (l *Ledger) sign(t token) (string, error) {
	if l.tokenKey == nil {
		return "", ErrNoTokenKey
	}
	p := []byte{tokenVersion, t.use}
	p = binary.BigEndian.AppendUint64(p, uint64(t.expires))
	for _, s := range []string{t.tenant, string(t.subject), t.purpose, t.ref} {
		p = binary.AppendUvarint(p, uint64(len(s)))
		p = append(p, s...)
	}
	p = append(p, l.mac(p)...)
	return base64.RawURLEncoding.EncodeToString(p), nil
}

func (l *Ledger) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.tokenKey)
	m.Write([]byte(tokenDomain))
	m.Write(payload)
	return m.Sum(nil)[:tokenMACLen]
}

// open checks s and returns its token: ErrTokenInvalid if it is malformed,
// forged or not for use in this tenant, ErrTokenExpired if its time ran
// out. The mac is checked (in constant time) before anything else is read.
func (l *Ledger) open(s string, use byte) (token, error) {
	if l.tokenKey == nil {
		return token{}, ErrNoTokenKey
	}
	if len(s) > maxTokenLen {
		return token{}, ErrTokenInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+8+tokenMACLen {
		return token{}, ErrTokenInvalid
	}
	payload, sum := b[:len(b)-tokenMACLen], b[len(b)-tokenMACLen:]
	if !hmac.Equal(sum, l.mac(payload)) {
		return token{}, ErrTokenInvalid
	}
	if payload[0] != tokenVersion || payload[1] != use {
		return token{}, ErrTokenInvalid
	}
	t := token{use: use, expires: int64(binary.BigEndian.Uint64(payload[2:10]))}
	rest := payload[10:]
	fields := [4]string{}
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return token{}, ErrTokenInvalid
		}
		fields[i] = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 || fields[0] != l.tenant {
		return token{}, ErrTokenInvalid
	}
	t.tenant, t.subject, t.purpose, t.ref = fields[0], dataward.SubjectID(fields[1]), fields[2], fields[3]
	if l.clock.Now().Unix() >= t.expires {
		return token{}, ErrTokenExpired
	}
	return t, nil
}

// RequestConfirmation starts a double opt-in: it records that consent to
// c.Purpose was asked for (kind Requested; the check reads ReasonPending
// until it is confirmed) and returns a token to put in the link sent to the
// person. The token works once, for Options.ConfirmTTL; [Ledger.Confirm]
// redeems it.
func (l *Ledger) RequestConfirmation(ctx context.Context, c Choice) (Record, string, error) {
	if l.tokenKey == nil {
		return Record{}, "", ErrNoTokenKey
	}
	reg := l.reg.Load()
	p, err := l.check(reg, Requested, &c)
	if err != nil {
		return Record{}, "", err
	}
	rec, err := l.newRecord(ctx, Requested, p, c)
	if err != nil {
		return Record{}, "", err
	}
	tok, err := l.sign(token{use: useConfirm, expires: rec.Time.Add(l.confirmTTL).Unix(), tenant: l.tenant, subject: c.Subject, purpose: c.Purpose, ref: rec.ID})
	if err != nil {
		return Record{}, "", err
	}
	rec, err = l.append(ctx, rec)
	if err != nil && rec.Seq == 0 {
		return Record{}, "", err
	}
	return rec, tok, err
}

// Confirm redeems a double opt-in token: it records consent given (method
// MethodDoubleOptIn) under the notice shown when it was requested, with the
// evidence of the confirmation (the click). A forged or malformed token is
// an error matching ErrTokenInvalid, an expired one ErrTokenExpired, and one
// already used ErrTokenUsed; then nothing is recorded.
func (l *Ledger) Confirm(ctx context.Context, tok string, ev Evidence) (Record, error) {
	t, err := l.open(tok, useConfirm)
	if err != nil {
		return Record{}, err
	}
	hist, err := l.History(ctx, t.subject)
	if err != nil {
		return Record{}, err
	}
	var req *Record
	for i := range hist {
		if hist[i].ID == t.ref && hist[i].Kind == Requested && hist[i].Purpose == t.purpose {
			req = &hist[i]
		}
	}
	if req == nil {
		return Record{}, fmt.Errorf("%w: the request it confirms is not in the ledger", ErrTokenInvalid)
	}
	rec, err := l.Give(bySubject(ctx, t.subject), Choice{
		Subject:      t.subject,
		Purpose:      t.purpose,
		Notice:       req.Notice,
		Method:       MethodDoubleOptIn,
		Evidence:     ev,
		Jurisdiction: req.Jurisdiction,
		Ref:          "confirm:" + req.ID,
	})
	if errors.Is(err, ErrDuplicateRef) {
		return Record{}, ErrTokenUsed
	}
	return rec, err
}

// UnsubscribeToken returns a token that withdraws subject from purpose, or
// from every purpose when purpose is "", for Options.UnsubscribeTTL. Using
// it twice is harmless: withdrawal is idempotent.
func (l *Ledger) UnsubscribeToken(subject dataward.SubjectID, purpose string) (string, error) {
	if err := badSubject("subject", subject); err != nil {
		return "", err
	}
	if purpose != "" {
		if _, ok := l.Purpose(purpose); !ok {
			return "", fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
		}
	}
	exp := l.clock.Now().Add(l.unsubscribeTTL).Unix()
	return l.sign(token{use: useUnsubscribe, expires: exp, tenant: l.tenant, subject: subject, purpose: purpose})
}

// Unsubscribe redeems an unsubscribe token: it withdraws the purpose it
// names, or every purpose (see [Ledger.WithdrawAll]), with method
// MethodUnsubscribe, and returns the records it made (none if the person
// was already unsubscribed).
func (l *Ledger) Unsubscribe(ctx context.Context, tok string, ev Evidence) ([]Record, error) {
	t, err := l.open(tok, useUnsubscribe)
	if err != nil {
		return nil, err
	}
	ctx = bySubject(ctx, t.subject)
	c := Choice{Subject: t.subject, Method: MethodUnsubscribe, Evidence: ev}
	if t.purpose == "" {
		return l.WithdrawAll(ctx, c)
	}
	c.Purpose = t.purpose
	rec, made, err := l.chooseMade(ctx, Withdrawn, c)
	if err != nil || !made {
		return nil, err
	}
	return []Record{rec}, nil
}

// bySubject names the subject as the actor, when the context names none: a
// token in a link sent to the person is used by the person.
func bySubject(ctx context.Context, subject dataward.SubjectID) context.Context {
	if _, ok := dataward.ActorFrom(ctx); ok {
		return ctx
	}
	return dataward.WithActor(ctx, dataward.Actor{ID: string(subject), Kind: dataward.ActorSubject})
}
