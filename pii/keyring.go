package pii

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/internal/valid"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Defaults for [Options].
const (
	DefaultCacheSize = 10_000
	DefaultCacheTTL  = 5 * time.Minute
)

// Options configure a [Keyring]. The zero value (or a nil *Options) gives
// the defaults.
type Options struct {
	// CacheSize bounds how many unwrapped data keys are kept in memory.
	// Zero means DefaultCacheSize; a negative value disables the cache, so
	// that every operation fetches and unwraps the subject's key.
	CacheSize int
	// CacheTTL is how long an unwrapped data key stays cached. Zero means
	// DefaultCacheTTL. It bounds how long another process that shares the
	// key store can still open a subject's data after this one shreds it.
	// With the system clock a key may leave the cache up to a sixteenth of
	// CacheTTL (at most a second) early, never late; a background timer,
	// running only while keys are cached, drops expired keys from memory.
	CacheTTL time.Duration `validate:"gte=0,lte=86400000000000"`
	// Clock tells the time: cache expiry and key creation and shredding
	// times. Nil means the system clock.
	Clock dataward.Clock
	// Audit, if set, records every shred (action "pii.shred") and every
	// rewrap (action "pii.rewrap") in the audit log. Nil: no audit.
	Audit *audit.Logger
}

// Keyring seals and opens personal data with a data key per subject. It
// holds the master key (KEK), creates each subject's data key (DEK) on first
// use, keeps the DEKs wrapped by the KEK in a [KeyStore], and caches
// unwrapped DEKs for a bounded time.
//
// A Keyring is safe for concurrent use. Several processes may share one
// KeyStore: the store decides which data key wins when two create the first
// key of a subject at once.
type Keyring struct {
	kek   tink.AEAD
	store KeyStore
	clock dataward.Clock
	cache *dekCache // nil when disabled
	audit *audit.Logger
}

// NewKeyring returns a Keyring that wraps data keys with kek and keeps them
// in store.
//
// kek is any Tink AEAD: for development, one made from a local keyset file
// (package insecurekeyfile); in production, a KMS-backed AEAD built with one
// of Tink's KMS integrations, so that the master key never leaves the KMS:
//
//	client, _ := awskms.NewClientWithOptions(keyURI)   // or gcpkms, hcvault
//	kek, _ := client.GetAEAD(keyURI)
//	keyring, _ := pii.NewKeyring(kek, store, nil)
//
// Returns a *dataward.ValidationError if kek or store is nil or an option is
// out of range.
func NewKeyring(kek tink.AEAD, store KeyStore, opts *Options) (*Keyring, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ve := &dataward.ValidationError{Package: "pii"}
	if kek == nil {
		ve.Add("kek", "is required")
	}
	if store == nil {
		ve.Add("store", "is required")
	}
	if err := validStruct("Options", &o); err != nil {
		ve.Problems = append(ve.Problems, err.(*dataward.ValidationError).Problems...)
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	k := &Keyring{kek: kek, store: store, clock: dataward.ClockOrSystem(o.Clock), audit: o.Audit}
	if o.CacheSize > 0 {
		if o.Clock == nil {
			// Cache expiry reads the monotonic clock (time since started):
			// cheaper than time.Now, and deaf to steps of the wall clock.
			started := time.Now()
			k.cache = newDEKCache(o.CacheSize, o.CacheTTL, func() int64 { return int64(time.Since(started)) }, true)
		} else {
			k.cache = newDEKCache(o.CacheSize, o.CacheTTL, func() int64 { return o.Clock.Now().UnixNano() }, false)
		}
	}
	return k, nil
}

// String describes the keyring without any key material.
func (k *Keyring) String() string { return "pii.Keyring" }

// dataKey is an unwrapped data key, ready to seal and open.
type dataKey struct {
	id   uint32
	aead cipher.AEAD
}

func newDataKey(id uint32, raw []byte) (*dataKey, error) {
	defer clear(raw)
	if len(raw) != dekSize {
		return nil, ErrUnwrap
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, ErrUnwrap
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, ErrUnwrap
	}
	return &dataKey{id: id, aead: gcm}, nil
}

// dekSize is the size of a data key: AES-256.
const dekSize = 32

// wrapAD is the associated data that binds a wrapped data key to its
// subject and key id, so that a wrapped key copied to another subject's
// record fails to unwrap.
func wrapAD(subject dataward.SubjectID, id uint32) []byte {
	const label = "dataward/pii/dek/v1\x00"
	ad := make([]byte, 0, len(label)+4+len(subject))
	ad = append(ad, label...)
	ad = binary.BigEndian.AppendUint32(ad, id)
	return append(ad, subject...)
}

// dataKey returns the data key of subject: from the cache, else from the
// store (unwrapped with the KEK), else, if create is set, a new one.
func (k *Keyring) dataKey(ctx context.Context, subject dataward.SubjectID, create bool) (*dataKey, error) {
	var gen uint64
	if k.cache != nil {
		if dk := k.cache.get(subject); dk != nil {
			return dk, nil
		}
		gen = k.cache.generation()
	}
	// Only checked here, on a miss: a subject in the cache was checked
	// before it got there.
	if p := subject.Problem(); p != "" {
		return nil, invalid("subject", p)
	}
	rec, err := k.store.Get(ctx, subject)
	var dk *dataKey
	switch {
	case errors.Is(err, ErrKeyNotFound) && create:
		dk, err = k.createKey(ctx, subject)
	case err != nil:
		return nil, err
	default:
		dk, err = k.unwrap(rec)
	}
	if err != nil {
		return nil, err
	}
	if k.cache != nil {
		k.cache.put(subject, dk, gen)
	}
	return dk, nil
}

// unwrap decrypts a live record's data key with the KEK.
func (k *Keyring) unwrap(rec KeyRecord) (*dataKey, error) {
	if rec.IsShredded() {
		return nil, ErrShredded
	}
	raw, err := k.kek.Decrypt(rec.Wrapped, wrapAD(rec.Subject, rec.KeyID))
	if err != nil {
		return nil, ErrUnwrap
	}
	return newDataKey(rec.KeyID, raw)
}

// createKey makes a data key for subject and stores it, unless another
// caller (in this process or another) stored one first, in which case it
// returns that one.
func (k *Keyring) createKey(ctx context.Context, subject dataward.SubjectID) (*dataKey, error) {
	raw := make([]byte, dekSize)
	rand.Read(raw)
	var id uint32
	for id == 0 {
		id = randomUint32()
	}
	wrapped, err := k.kek.Encrypt(raw, wrapAD(subject, id))
	if err != nil {
		clear(raw)
		return nil, fmt.Errorf("wrap new data key: %w", err)
	}
	rec := KeyRecord{
		Subject: subject,
		KeyID:   id,
		Wrapped: wrapped,
		Created: k.clock.Now().UTC().Truncate(time.Microsecond),
	}
	stored, err := k.store.Create(ctx, rec)
	if err != nil {
		clear(raw)
		return nil, err
	}
	if stored.KeyID == id && bytes.Equal(stored.Wrapped, wrapped) {
		return newDataKey(id, raw)
	}
	clear(raw) // another creator won; use its key
	return k.unwrap(stored)
}

func randomUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// Shred destroys the data key of subject. Every value sealed for the subject,
// wherever it is stored (other tables, files, back-ups, audit records), can
// no longer be opened: [Keyring.Open] returns an error matching
// [ErrShredded]. Sealing for the subject fails the same way from then on, so
// no new data can be tied to an erased person.
//
// Shred is idempotent: shredding a shredded subject changes nothing and
// returns the first tombstone. Shredding a subject that never had a key
// records a tombstone too. The returned record holds when the key was
// destroyed and no key material.
//
// The key is evicted from this Keyring's cache at once. Other processes that
// share the key store may keep a cached copy for up to their
// [Options.CacheTTL]; and the store's own back-ups hold the wrapped key for
// as long as they are kept (see the package documentation).
func (k *Keyring) Shred(ctx context.Context, subject dataward.SubjectID) (KeyRecord, error) {
	if p := subject.Problem(); p != "" {
		return KeyRecord{}, invalid("subject", p)
	}
	if k.cache != nil {
		k.cache.evict(subject)
	}
	at := k.clock.Now().UTC().Truncate(time.Microsecond)
	rec, err := k.store.Shred(ctx, subject, at)
	if k.cache != nil {
		k.cache.evict(subject) // a reader may have cached it meanwhile
	}
	if err != nil {
		return KeyRecord{}, &Error{Op: "shred", Err: err}
	}
	if k.audit != nil {
		err := k.audit.Record(ctx, audit.Event{
			Action:   "pii.shred",
			Subject:  subject,
			Resource: audit.Resource{Type: "pii.key", ID: string(subject)},
			Time:     rec.Shredded,
			Metadata: []audit.Attr{{Key: "key_id", Value: strconv.FormatUint(uint64(rec.KeyID), 10)}},
		})
		if err != nil {
			// The key is destroyed all the same; say so, and why the
			// record of it is missing.
			return rec, &Error{Op: "shred", Err: fmt.Errorf("the key was destroyed, but recording it in the audit log failed: %w", err)}
		}
	}
	return rec, nil
}

// ShreddedAt reports when subject was shredded, or the zero time if its key
// is live. Returns an error matching [ErrKeyNotFound] if the subject has no
// key and was never shredded.
func (k *Keyring) ShreddedAt(ctx context.Context, subject dataward.SubjectID) (time.Time, error) {
	if p := subject.Problem(); p != "" {
		return time.Time{}, invalid("subject", p)
	}
	rec, err := k.store.Get(ctx, subject)
	if err != nil {
		return time.Time{}, &Error{Op: "status", Err: err}
	}
	return rec.Shredded, nil
}

func validStruct(name string, v any) error { return valid.Struct("pii", name, v) }

func invalid(field, problem string) error {
	return &dataward.ValidationError{Package: "pii", Problems: []dataward.Problem{{Field: field, Message: problem}}}
}
