package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/ascii"
	"github.com/dataward/dataward/internal/uuid7"
	"github.com/dataward/dataward/internal/valid"
)

// Options configure a [Ledger]. Nil means defaults; every field has a
// working default except the keys, which the features that need them ask
// for.
type Options struct {
	// Tenant is the ledger the Ledger reads and writes, for hosts that keep
	// several customers in one Store (default "").
	Tenant string `validate:"max=64"`

	// Audit, if set, records every record in the audit log, as an event
	// with the record's ID and action "consent." + its Kind. Nil: no audit.
	Audit *audit.Logger
	// Sealer encrypts evidence (IP address, user agent) under the
	// subject's key, so that shredding the subject makes it unreadable: a
	// *pii.Keyring. Without one, evidence is kept as a keyed hash under
	// HashKey.
	Sealer audit.Sealer
	// HashKey keys the hashes of evidence when there is no Sealer (at
	// least 16 bytes). Choices with evidence are refused if neither is
	// set.
	HashKey []byte
	// TokenKey signs double opt-in and unsubscribe tokens with
	// HMAC-SHA256 (at least 32 random bytes). Keep it secret and stable:
	// changing it invalidates the links already sent.
	TokenKey []byte
	// ConfirmTTL is how long a double opt-in link works (default 72h).
	ConfirmTTL time.Duration `validate:"gte=0"`
	// UnsubscribeTTL is how long an unsubscribe link works (default 400
	// days, so that a link in a yearly e-mail still works).
	UnsubscribeTTL time.Duration `validate:"gte=0"`

	// MaxStale bounds how old a cached state may be when the Ledger is not
	// following the Store (see [Ledger.Run]): older states are read again
	// (default one second; negative: always read the Store).
	MaxStale time.Duration
	// CacheSize bounds the subjects whose states are cached (default
	// 1<<21). When it is reached, entries are evicted at random.
	CacheSize int `validate:"gte=0"`

	// Clock gives the time. Nil means the system clock.
	Clock dataward.Clock
	// OnError, if set, is told about failures no caller sees, such as
	// [Ledger.Run] losing its watch on the Store. It must not block.
	OnError func(error)
}

const (
	defaultConfirmTTL     = 72 * time.Hour
	defaultUnsubscribeTTL = 400 * 24 * time.Hour
	defaultMaxStale       = time.Second
	defaultCacheSize      = 1 << 21
)

// Ledger records people's choices about purposes and answers whether their
// data may be used for a purpose now. It is safe for concurrent use.
//
// Checks are answered from a cache: a change made through this Ledger is
// visible at once; one made by another process is visible within a second
// while [Ledger.Run] follows the Store (and, without Run, within
// Options.MaxStale).
type Ledger struct {
	store    Store
	tenant   string
	audit    *audit.Logger
	sealer   audit.Sealer
	hashKey  []byte
	tokenKey []byte
	clock    dataward.Clock
	onError  func(error)
	ids      *uuid7.Generator

	confirmTTL, unsubscribeTTL time.Duration
	maxStale                   int64 // nanoseconds; < 0: never trust the cache without following

	reg    atomic.Pointer[registry]
	regMu  sync.Mutex // serialises Register
	cache  *cache
	follow atomic.Bool // Run is following the Store: cached states are current
}

// New returns a Ledger over store. Register purposes before recording
// choices about them.
func New(store Store, opts *Options) (*Ledger, error) {
	if store == nil {
		return nil, (&dataward.ValidationError{Package: "consent"}).Add("store", "is required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	ve := &dataward.ValidationError{Package: "consent"}
	if err := valid.Struct("consent", "Options", &o); err != nil {
		ve = err.(*dataward.ValidationError)
	}
	if o.Tenant != "" && !ascii.Printable(o.Tenant) {
		ve.Add("Options.Tenant", "must be printable ASCII")
	}
	if o.HashKey != nil && len(o.HashKey) < 16 {
		ve.Add("Options.HashKey", "must be at least 16 bytes")
	}
	if o.TokenKey != nil && len(o.TokenKey) < 32 {
		ve.Add("Options.TokenKey", "must be at least 32 bytes")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	l := &Ledger{
		store:          store,
		tenant:         o.Tenant,
		audit:          o.Audit,
		sealer:         o.Sealer,
		hashKey:        cloneBytes(o.HashKey),
		tokenKey:       cloneBytes(o.TokenKey),
		clock:          dataward.ClockOrSystem(o.Clock),
		onError:        o.OnError,
		ids:            uuid7.NewGenerator(),
		confirmTTL:     orDefault(o.ConfirmTTL, defaultConfirmTTL),
		unsubscribeTTL: orDefault(o.UnsubscribeTTL, defaultUnsubscribeTTL),
		maxStale:       int64(orDefault(o.MaxStale, defaultMaxStale)),
		cache:          newCache(orDefault(o.CacheSize, defaultCacheSize)),
	}
	l.reg.Store(&registry{index: map[string]int{}})
	return l, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Tenant returns the tenant the Ledger works in.
func (l *Ledger) Tenant() string { return l.tenant }

// registry is the set of registered purposes, replaced as a whole by
// Register so that checks read it without locking.
type registry struct {
	purposes []registered
	index    map[string]int // Key -> position in purposes
}

type registered struct {
	Purpose
	material int // the highest Version among Material notices, or 0
}

// Register adds purposes, or replaces those already registered under the
// same Key (to add a notice version, say). Purposes are configuration: a
// host registers them at start-up, in every process. Nothing is registered
// if any purpose is invalid.
func (l *Ledger) Register(purposes ...Purpose) error {
	ve := &dataward.ValidationError{Package: "consent"}
	for i := range purposes {
		if err := purposes[i].validate(); err != nil {
			for _, p := range err.(*dataward.ValidationError).Problems {
				ve.Add(fmt.Sprintf("purposes[%d].%s", i, p.Field[len("Purpose."):]), p.Message)
			}
		}
	}
	if err := ve.Err(); err != nil {
		return err
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	old := l.reg.Load()
	next := &registry{purposes: append([]registered(nil), old.purposes...), index: make(map[string]int, len(old.index)+len(purposes))}
	for k, v := range old.index {
		next.index[k] = v
	}
	for _, p := range purposes {
		p.Channels = append([]Channel(nil), p.Channels...)
		p.Notices = append([]Notice(nil), p.Notices...)
		r := registered{Purpose: p}
		for _, n := range p.Notices {
			if n.Material {
				r.material = max(r.material, n.Version)
			}
		}
		if i, ok := next.index[p.Key]; ok {
			next.purposes[i] = r
		} else {
			next.index[p.Key] = len(next.purposes)
			next.purposes = append(next.purposes, r)
		}
	}
	l.reg.Store(next)
	return nil
}

// Purpose returns the registered purpose with key.
func (l *Ledger) Purpose(key string) (Purpose, bool) {
	reg := l.reg.Load()
	i, ok := reg.index[key]
	if !ok {
		return Purpose{}, false
	}
	return reg.purposes[i].Purpose, true
}

// Purposes returns the registered purposes, in the order they were first
// registered.
func (l *Ledger) Purposes() []Purpose {
	reg := l.reg.Load()
	out := make([]Purpose, len(reg.purposes))
	for i, r := range reg.purposes {
		out[i] = r.Purpose
	}
	return out
}

// Choice is what a person chose, as the host hands it to the Ledger. Who
// recorded it is taken from the dataward.Actor in the context.
type Choice struct {
	Subject dataward.SubjectID
	Purpose string // a registered purpose's Key
	// Notice is the notice version shown; required to give consent to an
	// opt-in purpose, and must be one registered for the purpose.
	Notice NoticeRef
	// Method is how the choice was made (default MethodForm).
	Method Method
	// Evidence, if given, is kept encrypted or as a keyed hash, never in
	// clear (see Options.Sealer).
	Evidence     Evidence
	Jurisdiction string // where the person was, e.g. "ZA", "DE" or "US-CA"
	// Ref, if set, makes the choice idempotent: a second choice with the
	// same Ref is refused with ErrDuplicateRef.
	Ref  string
	Note string // any remark, without personal data
}

// Limits on a Choice.
const (
	maxRefLen      = 255
	maxEvidenceLen = 1024
)

// Give records that the person agreed to the purpose. When the purpose's
// latest decisive record is already a consent (current or expired), the
// record is of kind Renewed.
func (l *Ledger) Give(ctx context.Context, c Choice) (Record, error) {
	return l.choose(ctx, Given, c)
}

// Refuse records that the person was asked and said no.
func (l *Ledger) Refuse(ctx context.Context, c Choice) (Record, error) {
	return l.choose(ctx, Refused, c)
}

// Withdraw records that the person withdrew their consent, or opted out,
// whether or not they had given it: it is their stated choice. It is
// idempotent: if the purpose's state already is withdrawn, nothing is
// recorded and the record that withdrew it is returned.
func (l *Ledger) Withdraw(ctx context.Context, c Choice) (Record, error) {
	return l.choose(ctx, Withdrawn, c)
}

// Object records the person's objection to the processing (GDPR Art. 21,
// POPIA s11(3)). Like Withdraw, it is idempotent.
func (l *Ledger) Object(ctx context.Context, c Choice) (Record, error) {
	return l.choose(ctx, Objected, c)
}

// WithdrawAll withdraws every purpose that is not notice-only and whose
// check now allows it ("unsubscribe from everything"); c.Purpose must be
// empty. If c.Ref is set, each record's Ref is c.Ref, "/" and the
// purpose's key, which must fit in 255 bytes. c is checked for every
// purpose before anything is recorded: bad input changes nothing. It
// returns the records it made, in purpose order.
func (l *Ledger) WithdrawAll(ctx context.Context, c Choice) ([]Record, error) {
	if c.Purpose != "" {
		return nil, (&dataward.ValidationError{Package: "consent"}).Add("Choice.Purpose", "must be empty for WithdrawAll")
	}
	if err := badSubject("Choice.Subject", c.Subject); err != nil {
		return nil, err
	}
	// The states are read from the Store, not the cache, which may not yet
	// hold a consent given through another process.
	reg := l.reg.Load()
	// c is checked for every purpose it may withdraw before anything is
	// recorded, so that bad input changes nothing.
	for i := range reg.purposes {
		p := &reg.purposes[i]
		if p.Mechanism == NoticeOnly {
			continue
		}
		c := c
		c.Purpose = p.Key
		if c.Ref != "" {
			c.Ref += "/" + p.Key
		}
		if _, err := l.check(reg, Withdrawn, &c); err != nil {
			return nil, err
		}
	}
	states, err := l.load(ctx, reg, c.Subject)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i := range reg.purposes {
		p := &reg.purposes[i]
		if p.Mechanism == NoticeOnly {
			continue
		}
		if !states[i].decide(p, l.clock).Allowed {
			continue
		}
		c := c
		c.Purpose = p.Key
		if c.Ref != "" {
			c.Ref += "/" + p.Key
		}
		rec, err := l.choose(ctx, Withdrawn, c)
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// badSubject returns the validation error for a bad subject argument, or
// nil.
func badSubject(field string, subject dataward.SubjectID) error {
	if msg := subject.Problem(); msg != "" {
		return (&dataward.ValidationError{Package: "consent"}).Add(field, msg)
	}
	return nil
}

// choose validates c, records it as kind, and updates the cache.
func (l *Ledger) choose(ctx context.Context, kind Kind, c Choice) (Record, error) {
	rec, _, err := l.chooseMade(ctx, kind, c)
	return rec, err
}

// chooseMade is choose, and reports whether it recorded anything (false:
// a repeated withdrawal or objection, whose earlier record it returns).
func (l *Ledger) chooseMade(ctx context.Context, kind Kind, c Choice) (Record, bool, error) {
	reg := l.reg.Load()
	p, err := l.check(reg, kind, &c)
	if err != nil {
		return Record{}, false, err
	}
	switch kind {
	case Withdrawn, Objected, Given:
		// The state is read from the Store, not the cache: a cached state
		// may predate a change made through another process (for up to
		// MaxStale, or until Run hears of it), and a withdrawal skipped as
		// a repeat on its word would be lost.
		states, err := l.load(ctx, reg, c.Subject)
		if err != nil {
			return Record{}, false, err
		}
		st := states[reg.index[c.Purpose]]
		if kind == Given {
			if st.given() || st.is(Expired) {
				kind = Renewed
			}
			break
		}
		// Idempotent: a second withdrawal records nothing.
		if st.is(kind) {
			rec, err := l.recordAt(ctx, c.Subject, st.seq)
			return rec, false, err
		}
	}
	rec, err := l.newRecord(ctx, kind, p, c)
	if err != nil {
		return Record{}, false, err
	}
	rec, err = l.append(ctx, rec)
	return rec, rec.Seq != 0, err
}

// check validates a choice of kind about a registered purpose and fills in
// its defaults.
func (l *Ledger) check(reg *registry, kind Kind, c *Choice) (*registered, error) {
	ve := &dataward.ValidationError{Package: "consent"}
	if msg := c.Subject.Problem(); msg != "" {
		ve.Add("Choice.Subject", msg)
	}
	var p *registered
	if i, ok := reg.index[c.Purpose]; ok {
		p = &reg.purposes[i]
	} else if c.Purpose == "" {
		ve.Add("Choice.Purpose", "is required")
	}
	if c.Method == "" {
		c.Method = MethodForm
	}
	if !c.Method.valid() {
		ve.Add("Choice.Method", "must be one of form, api, import, double_opt_in, gpc, one_click_unsubscribe, system")
	}
	if !c.Notice.IsZero() {
		checkNotice(ve, "Choice.Notice", c.Notice)
	}
	if p != nil && len(ve.Problems) == 0 {
		switch {
		case !c.Notice.IsZero():
			n, ok := p.notice(c.Notice)
			if !ok {
				ve.Add("Choice.Notice", "is not a notice registered for the purpose")
			}
			c.Notice = n.Ref()
		case p.Mechanism == OptIn && (kind == Given || kind == Requested):
			ve.Add("Choice.Notice", "is required to give consent to an opt-in purpose: name the notice version shown")
		}
	}
	if c.Jurisdiction != "" && !isJurisdiction(c.Jurisdiction) {
		ve.Add("Choice.Jurisdiction", "must be an ISO 3166 code such as ZA, DE or US-CA")
	}
	if len(c.Ref) > maxRefLen || !ascii.Printable(c.Ref) {
		ve.Add("Choice.Ref", fmt.Sprintf("must be at most %d printable ASCII characters", maxRefLen))
	}
	if len(c.Note) > maxTextLen || !utf8.ValidString(c.Note) {
		ve.Add("Choice.Note", fmt.Sprintf("must be valid UTF-8 of at most %d bytes", maxTextLen))
	}
	if len(c.Evidence.IP) > maxEvidenceLen || len(c.Evidence.UserAgent) > maxEvidenceLen {
		ve.Add("Choice.Evidence", fmt.Sprintf("values must be at most %d bytes", maxEvidenceLen))
	}
	if !c.Evidence.IsZero() && l.sealer == nil && l.hashKey == nil {
		ve.Add("Choice.Evidence", "needs Options.Sealer or Options.HashKey to be kept protected")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, c.Purpose)
	}
	return p, nil
}

// notice returns the registered notice that ref names (by ID, Version and
// Language; a hash, if given, must match).
func (p *registered) notice(ref NoticeRef) (Notice, bool) {
	for _, n := range p.Notices {
		if n.ID == ref.ID && n.Version == ref.Version && n.Language == ref.Language {
			return n, ref.SHA256 == "" || hmac.Equal([]byte(ref.SHA256), []byte(n.SHA256))
		}
	}
	return Notice{}, false
}

// isJurisdiction accepts an ISO 3166-1 alpha-2 code, optionally with an
// ISO 3166-2 subdivision: "ZA", "US-CA", "GB-ENG".
func isJurisdiction(s string) bool {
	if len(s) != 2 && (len(s) < 4 || len(s) > 6 || s[2] != '-') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 2 {
			continue
		}
		if !('A' <= c && c <= 'Z' || i > 2 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// newRecord makes the record of a validated choice, with its evidence
// protected.
func (l *Ledger) newRecord(ctx context.Context, kind Kind, p *registered, c Choice) (Record, error) {
	now := l.clock.Now().UTC().Truncate(time.Microsecond)
	rec := Record{
		ID:           l.ids.Next(now),
		Tenant:       l.tenant,
		Subject:      c.Subject,
		Purpose:      p.Key,
		Kind:         kind,
		Method:       c.Method,
		Notice:       c.Notice,
		Jurisdiction: c.Jurisdiction,
		Time:         now,
		Ref:          c.Ref,
		Note:         c.Note,
	}
	if a, ok := dataward.ActorFrom(ctx); ok {
		rec.ActorID, rec.ActorKind = a.ID, a.Kind
	}
	if (kind == Given || kind == Renewed) && p.Validity > 0 {
		rec.Expires = now.Add(p.Validity)
	}
	var err error
	if rec.Evidence.IP, err = l.protect(ctx, c.Subject, "consent.evidence.ip", c.Evidence.IP); err != nil {
		return Record{}, err
	}
	if rec.Evidence.UserAgent, err = l.protect(ctx, c.Subject, "consent.evidence.user_agent", c.Evidence.UserAgent); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// protect seals value under the subject's key, or hashes it.
func (l *Ledger) protect(ctx context.Context, subject dataward.SubjectID, field, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	if l.sealer != nil {
		s, err := l.sealer.SealString(ctx, subject, field, value)
		if err != nil {
			return "", fmt.Errorf("consent: sealing evidence: %w", err)
		}
		return s, nil
	}
	m := hmac.New(sha256.New, l.hashKey)
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return audit.HashPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]), nil
}

// append stores rec, updates the cache and records the audit event.
func (l *Ledger) append(ctx context.Context, rec Record) (Record, error) {
	seq, err := l.store.Append(ctx, rec)
	if err != nil {
		if errors.Is(err, ErrDuplicateRef) {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("consent: storing the record: %w", err)
	}
	rec.Seq = seq
	l.cache.apply(l.reg.Load(), rec)
	if l.audit != nil {
		if err := l.audit.Record(ctx, auditEvent(rec)); err != nil {
			return rec, fmt.Errorf("consent: record %s is stored, but its audit event failed: %w", rec.ID, err)
		}
	}
	return rec, nil
}

// auditEvent is the audit event of rec. It carries rec's digest, which ties
// the ledger to the tamper-evident log: a record altered in the Store no
// longer matches its event.
func auditEvent(rec Record) audit.Event {
	e := audit.Event{
		ID:       rec.ID,
		Time:     rec.Time,
		Action:   "consent." + string(rec.Kind),
		Subject:  rec.Subject,
		Resource: audit.Resource{Type: "consent.purpose", ID: rec.Purpose},
		Reason:   rec.Note,
		Metadata: []audit.Attr{
			{Key: "seq", Value: strconv.FormatInt(rec.Seq, 10)},
			{Key: "method", Value: string(rec.Method)},
			{Key: "digest", Value: rec.Digest()},
		},
	}
	if rec.ActorID != "" || rec.ActorKind != "" {
		e.Actor = audit.Actor{ID: rec.ActorID, Kind: rec.ActorKind}
	}
	if !rec.Notice.IsZero() {
		e.Metadata = append(e.Metadata, audit.Attr{Key: "notice", Value: rec.Notice.ID + "@" + strconv.Itoa(rec.Notice.Version) + "/" + rec.Notice.Language})
	}
	return e
}

// History returns every record of subject, in order, with evidence in its
// stored form.
func (l *Ledger) History(ctx context.Context, subject dataward.SubjectID) ([]Record, error) {
	if err := badSubject("subject", subject); err != nil {
		return nil, err
	}
	recs, err := l.store.History(ctx, l.tenant, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: reading history: %w", err)
	}
	return recs, nil
}

// recordAt returns subject's record at seq.
func (l *Ledger) recordAt(ctx context.Context, subject dataward.SubjectID, seq int64) (Record, error) {
	recs, err := l.History(ctx, subject)
	if err != nil {
		return Record{}, err
	}
	for _, r := range recs {
		if r.Seq == seq {
			return r, nil
		}
	}
	return Record{}, fmt.Errorf("consent: record %d is missing from the store", seq)
}

// Allowed answers whether subject's data may be used for purpose now, and
// why. It is answered from the cache when it can (no allocation, one map
// lookup), and from the Store otherwise. An unknown purpose is an error
// matching ErrUnknownPurpose.
func (l *Ledger) Allowed(ctx context.Context, subject dataward.SubjectID, purpose string) (Decision, error) {
	reg := l.reg.Load()
	i, ok := reg.index[purpose]
	if !ok {
		return Decision{}, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if v, ok := l.cache.get(subject, i); ok && l.fresh(v.loaded) {
		return v.decide(&reg.purposes[i], l.clock), nil
	}
	if err := badSubject("subject", subject); err != nil {
		return Decision{}, err
	}
	states, err := l.load(ctx, reg, subject)
	if err != nil {
		return Decision{}, err
	}
	return states[i].decide(&reg.purposes[i], l.clock), nil
}

// states returns the state of subject and every registered purpose, by
// registry position, reading the subject's history at most once.
func (l *Ledger) states(ctx context.Context, reg *registry, subject dataward.SubjectID) ([]state, error) {
	out := make([]state, len(reg.purposes))
	for i := range out {
		v, ok := l.cache.get(subject, i)
		if !ok || !l.fresh(v.loaded) {
			return l.load(ctx, reg, subject)
		}
		out[i] = v.state
	}
	return out, nil
}

// fresh reports whether a state read from the Store at loaded may still be
// used.
func (l *Ledger) fresh(loaded int64) bool {
	return l.follow.Load() || l.maxStale >= 0 && monotonic()-loaded < l.maxStale
}

// load reads subject's history, caches the states derived from it and
// returns them, one per registered purpose.
func (l *Ledger) load(ctx context.Context, reg *registry, subject dataward.SubjectID) ([]state, error) {
	loaded, gen := monotonic(), l.cache.generation(subject)
	recs, err := l.store.History(ctx, l.tenant, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: reading history: %w", err)
	}
	states := make([]state, len(reg.purposes))
	for _, r := range recs {
		if i, ok := reg.index[r.Purpose]; ok {
			states[i].apply(r)
		}
	}
	l.cache.put(subject, states, loaded, gen)
	return states, nil
}
