package pii_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/pii"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	kr    *pii.Keyring
	store *pii.MemKeyStore
	clock *fakeClock
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	store := pii.NewMemKeyStore()
	clock := newClock()
	kr, err := pii.NewKeyring(newKEK(t), store, &pii.Options{Clock: clock})
	require.NoError(t, err)
	return fixture{kr: kr, store: store, clock: clock}
}

var ctx = context.Background()

func TestSealOpenRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, size := range []int{0, 1, 15, 16, 64, 1000, 1 << 16} {
		pt := []byte(strings.Repeat("x", size))
		sealed, err := f.kr.Seal(ctx, "alice", "customer.notes", pt)
		require.NoError(t, err)
		assert.Len(t, sealed, size+pii.Overhead)
		assert.True(t, pii.IsSealed(sealed))
		got, err := f.kr.Open(ctx, "alice", "customer.notes", sealed)
		require.NoError(t, err)
		assert.Equal(t, string(pt), string(got))
	}
}

func TestSealStringRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, pt := range []string{"", "a", "alice@example.com", "Zoë Ñúñez 💌", strings.Repeat("é", 5000)} {
		sealed, err := f.kr.SealString(ctx, "alice", "customer.name", pt)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(sealed, pii.TextPrefix), sealed)
		assert.NotContains(t, sealed, "alice")
		got, err := f.kr.OpenString(ctx, "alice", "customer.name", sealed)
		require.NoError(t, err)
		assert.Equal(t, pt, got)
	}
}

func TestSealIsRandomized(t *testing.T) {
	f := newFixture(t)
	a, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	b, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "sealing must use a fresh nonce each time")
}

func TestCiphertextIsBoundToSubjectAndField(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	require.NoError(t, err)
	_, err = f.kr.Seal(ctx, "bob", "customer.email", []byte("bob@example.com")) // bob has a key too
	require.NoError(t, err)

	_, err = f.kr.Open(ctx, "bob", "customer.email", sealed)
	assert.ErrorIs(t, err, pii.ErrAuthFailed, "copied to another subject")
	_, err = f.kr.Open(ctx, "alice", "customer.phone", sealed)
	assert.ErrorIs(t, err, pii.ErrAuthFailed, "copied to another field")
	_, err = f.kr.Open(ctx, "carol", "customer.email", sealed)
	assert.ErrorIs(t, err, pii.ErrKeyNotFound, "copied to a subject without a key")

	// The text form is bound the same way, and so are struct fields.
	s, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	_, err = f.kr.OpenString(ctx, "bob", "customer.email", s)
	assert.ErrorIs(t, err, pii.ErrAuthFailed)
	_, err = f.kr.OpenString(ctx, "alice", "order.email", s)
	assert.ErrorIs(t, err, pii.ErrAuthFailed)
}

func TestTamperedCiphertext(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	require.NoError(t, err)
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), sealed...)
			bad[i] ^= bit
			got, err := f.kr.Open(ctx, "alice", "customer.email", bad)
			require.Error(t, err, "flipping bit %#x of byte %d went unnoticed", bit, i)
			assert.Nil(t, got)
			assert.True(t, errors.Is(err, pii.ErrAuthFailed) || errors.Is(err, pii.ErrNotSealed) || errors.Is(err, pii.ErrMalformed),
				"byte %d: unexpected error %v", i, err)
		}
	}
	for n := range len(sealed) {
		_, err := f.kr.Open(ctx, "alice", "customer.email", sealed[:n])
		require.Error(t, err, "truncated to %d bytes", n)
	}
	_, err = f.kr.Open(ctx, "alice", "customer.email", append(sealed, 0))
	assert.ErrorIs(t, err, pii.ErrAuthFailed, "extended by a byte")
}

func TestTamperedText(t *testing.T) {
	f := newFixture(t)
	s, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	other := "A" // a character that differs from s[10]
	if s[10] == 'A' {
		other = "B"
	}
	for _, bad := range []string{
		pii.TextPrefix,                  // nothing after the prefix
		pii.TextPrefix + "!!!!",         // not base64
		s[:len(s)-3],                    // truncated
		pii.TextPrefix + "AAAAAAAAAAAA", // base64, but not a sealed value
		s[:10] + other + s[11:],         // one character changed
	} {
		_, err := f.kr.OpenString(ctx, "alice", "customer.email", bad)
		assert.True(t, errors.Is(err, pii.ErrMalformed) || errors.Is(err, pii.ErrAuthFailed), "%q: %v", bad, err)
	}
}

func TestClearValueIsNotPassedThrough(t *testing.T) {
	f := newFixture(t)
	_, err := f.kr.SealString(ctx, "alice", "customer.email", "x") // alice has a key
	require.NoError(t, err)
	_, err = f.kr.OpenString(ctx, "alice", "customer.email", "alice@example.com")
	assert.ErrorIs(t, err, pii.ErrNotSealed)
	assert.NotContains(t, err.Error(), "alice@example.com")
	_, err = f.kr.Open(ctx, "alice", "customer.email", []byte("alice@example.com"))
	assert.ErrorIs(t, err, pii.ErrNotSealed)
	_, err = f.kr.Open(ctx, "alice", "customer.email", nil)
	assert.ErrorIs(t, err, pii.ErrNotSealed)
	assert.False(t, pii.IsSealedString("alice@example.com"))
	assert.False(t, pii.IsSealed([]byte("alice@example.com")))
}

func TestUnknownVersionIsMalformed(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("v"))
	require.NoError(t, err)
	sealed[1] = 0x02
	_, err = f.kr.Open(ctx, "alice", "customer.email", sealed)
	assert.ErrorIs(t, err, pii.ErrMalformed)
}

func TestWrongKEK(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	require.NoError(t, err)
	other, err := pii.NewKeyring(newKEK(t), f.store, nil)
	require.NoError(t, err)
	_, err = other.Open(ctx, "alice", "customer.email", sealed)
	assert.ErrorIs(t, err, pii.ErrUnwrap)
	_, err = other.Seal(ctx, "alice", "customer.email", []byte("x"))
	assert.ErrorIs(t, err, pii.ErrUnwrap, "a keyring with the wrong KEK must not seal either")
}

func TestWrappedKeyIsBoundToSubject(t *testing.T) {
	f := newFixture(t)
	_, err := f.kr.Seal(ctx, "alice", "f", []byte("x"))
	require.NoError(t, err)
	alice, err := f.store.Get(ctx, "alice")
	require.NoError(t, err)
	// Plant alice's wrapped key as mallory's.
	_, err = f.store.Create(ctx, pii.KeyRecord{Subject: "mallory", KeyID: alice.KeyID, Wrapped: alice.Wrapped, Created: alice.Created})
	require.NoError(t, err)
	_, err = f.kr.Seal(ctx, "mallory", "f", []byte("x"))
	assert.ErrorIs(t, err, pii.ErrUnwrap)
}

func TestValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		subject dataward.SubjectID
		field   string
		want    []string
	}{
		{"", "customer.email", []string{"subject is empty"}},
		{"alice", "", []string{"field is empty"}},
		{"", "", []string{"subject is empty", "field is empty"}},
		{dataward.SubjectID(strings.Repeat("s", 256)), "f", []string{"subject is longer than 255 bytes"}},
		{"alice", strings.Repeat("f", 256), []string{"field is longer than 255 bytes"}},
		{"al\nice", "f", []string{"subject contains a control character"}},
		{"alice", "cust\x00omer", []string{"field contains a control character"}},
		{"alice", "\xff", []string{"field is not valid UTF-8"}},
	}
	for _, tt := range tests {
		_, errSeal := f.kr.Seal(ctx, tt.subject, tt.field, []byte("secret-value"))
		_, errOpen := f.kr.OpenString(ctx, tt.subject, tt.field, "dw1:AAAA")
		for _, err := range []error{errSeal, errOpen} {
			require.ErrorIs(t, err, dataward.ErrInvalid)
			var ve *dataward.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "pii", ve.Package)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "secret-value")
		}
	}
	recs, err := f.store.List(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, recs, "bad input must not create keys")
}

// Open checks its arguments only when opening fails, so that a cache hit
// costs no validation: a bad field must still be reported as such when the
// subject's key is cached and the value is genuine.
func TestOpenReportsBadFieldWithWarmCache(t *testing.T) {
	f := newFixture(t)
	bin, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	require.NoError(t, err)
	text, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	for _, field := range []string{"", "customer\x00email", strings.Repeat("f", 256)} {
		_, err := f.kr.Open(ctx, "alice", field, bin)
		require.ErrorIs(t, err, dataward.ErrInvalid, "Open, field %q", field)
		_, err = f.kr.OpenString(ctx, "alice", field, text)
		require.ErrorIs(t, err, dataward.ErrInvalid, "OpenString, field %q", field)
	}
	_, err = f.kr.Open(ctx, "al\nice", "customer.email", bin)
	require.ErrorIs(t, err, dataward.ErrInvalid)
}

func TestNewKeyringValidation(t *testing.T) {
	_, err := pii.NewKeyring(nil, nil, &pii.Options{CacheTTL: -time.Second})
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "pii: invalid input: kek is required; store is required; Options.CacheTTL must be at least 0", err.Error())
	_, err = pii.NewKeyring(newKEK(t), pii.NewMemKeyStore(), &pii.Options{CacheTTL: 48 * time.Hour})
	assert.ErrorContains(t, err, "Options.CacheTTL must be at most")
}

func TestShred(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	require.NoError(t, err)
	text, err := f.kr.SealString(ctx, "alice", "customer.name", "Alice")
	require.NoError(t, err)
	bobs, err := f.kr.Seal(ctx, "bob", "customer.email", []byte("bob@example.com"))
	require.NoError(t, err)

	at, err := f.kr.ShreddedAt(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, at.IsZero())

	f.clock.Advance(time.Hour)
	tomb, err := f.kr.Shred(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now(), tomb.Shredded)
	assert.Nil(t, tomb.Wrapped, "the tombstone holds no key material")
	assert.NotZero(t, tomb.KeyID)

	// The key was cached, yet everything sealed for alice is now gone.
	_, err = f.kr.Open(ctx, "alice", "customer.email", sealed)
	assert.ErrorIs(t, err, pii.ErrShredded)
	assert.Contains(t, err.Error(), `pii: open "customer.email": subject was shredded`)
	_, err = f.kr.OpenString(ctx, "alice", "customer.name", text)
	assert.ErrorIs(t, err, pii.ErrShredded)
	_, err = f.kr.Seal(ctx, "alice", "customer.email", []byte("new"))
	assert.ErrorIs(t, err, pii.ErrShredded, "no new data for an erased subject")

	// Other subjects are untouched.
	got, err := f.kr.Open(ctx, "bob", "customer.email", bobs)
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", string(got))

	// Idempotent: the first tombstone stays.
	f.clock.Advance(time.Hour)
	again, err := f.kr.Shred(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, tomb.Shredded, again.Shredded)
	at, err = f.kr.ShreddedAt(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, tomb.Shredded, at)

	// A subject that never had a key can be shredded too, and stays so.
	_, err = f.kr.Shred(ctx, "ghost")
	require.NoError(t, err)
	_, err = f.kr.Seal(ctx, "ghost", "customer.email", []byte("x"))
	assert.ErrorIs(t, err, pii.ErrShredded)

	_, err = f.kr.ShreddedAt(ctx, "nobody")
	assert.ErrorIs(t, err, pii.ErrKeyNotFound)
	_, err = f.kr.Shred(ctx, "")
	assert.ErrorIs(t, err, dataward.ErrInvalid)
}

func TestShredSeenByOtherProcessAfterCacheTTL(t *testing.T) {
	store := pii.NewMemKeyStore()
	kek := newKEK(t)
	clock := newClock()
	a, err := pii.NewKeyring(kek, store, &pii.Options{Clock: clock, CacheTTL: time.Minute})
	require.NoError(t, err)
	b, err := pii.NewKeyring(kek, store, &pii.Options{Clock: clock, CacheTTL: time.Minute})
	require.NoError(t, err)
	sealed, err := a.Seal(ctx, "alice", "f", []byte("v"))
	require.NoError(t, err)
	_, err = b.Open(ctx, "alice", "f", sealed) // b caches alice's key
	require.NoError(t, err)

	_, err = a.Shred(ctx, "alice")
	require.NoError(t, err)
	_, err = a.Open(ctx, "alice", "f", sealed)
	assert.ErrorIs(t, err, pii.ErrShredded, "the shredding keyring forgets at once")

	clock.Advance(59 * time.Second)
	_, err = b.Open(ctx, "alice", "f", sealed)
	assert.NoError(t, err, "another process may use its cached key until the TTL")
	clock.Advance(time.Second)
	_, err = b.Open(ctx, "alice", "f", sealed)
	assert.ErrorIs(t, err, pii.ErrShredded, "and not one moment longer")
}

func TestCacheDisabled(t *testing.T) {
	store := pii.NewMemKeyStore()
	kek := newKEK(t)
	a, err := pii.NewKeyring(kek, store, &pii.Options{CacheSize: -1})
	require.NoError(t, err)
	b, err := pii.NewKeyring(kek, store, &pii.Options{CacheSize: -1})
	require.NoError(t, err)
	sealed, err := a.Seal(ctx, "alice", "f", []byte("v"))
	require.NoError(t, err)
	_, err = b.Open(ctx, "alice", "f", sealed)
	require.NoError(t, err)
	_, err = a.Shred(ctx, "alice")
	require.NoError(t, err)
	_, err = b.Open(ctx, "alice", "f", sealed)
	assert.ErrorIs(t, err, pii.ErrShredded, "without a cache a shred is seen at once")
}

func TestConcurrentFirstUseMakesOneKey(t *testing.T) {
	store := pii.NewMemKeyStore()
	kek := newKEK(t)
	// Several keyrings, as several processes would have, each with its own cache.
	const procs, perProc = 4, 8
	sealed := make([][]byte, procs*perProc)
	var wg sync.WaitGroup
	for p := range procs {
		kr, err := pii.NewKeyring(kek, store, nil)
		require.NoError(t, err)
		for g := range perProc {
			wg.Go(func() {
				s, err := kr.Seal(ctx, "alice", "f", []byte(fmt.Sprint(p, g)))
				assert.NoError(t, err)
				sealed[p*perProc+g] = s
			})
		}
	}
	wg.Wait()
	recs, err := store.List(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	fresh, err := pii.NewKeyring(kek, store, nil)
	require.NoError(t, err)
	for i, s := range sealed {
		got, err := fresh.Open(ctx, "alice", "f", s)
		require.NoError(t, err, "value %d was sealed with a key that lost the race", i)
		assert.Equal(t, fmt.Sprint(i/perProc, i%perProc), string(got))
	}
}

// failingStore fails every call, to check that store errors surface intact.
type failingStore struct{ pii.KeyStore }

var errStoreDown = errors.New("store is down")

func (failingStore) Get(context.Context, dataward.SubjectID) (pii.KeyRecord, error) {
	return pii.KeyRecord{}, errStoreDown
}

func (failingStore) Shred(context.Context, dataward.SubjectID, time.Time) (pii.KeyRecord, error) {
	return pii.KeyRecord{}, errStoreDown
}

func TestStoreErrorsSurface(t *testing.T) {
	kr, err := pii.NewKeyring(newKEK(t), failingStore{}, nil)
	require.NoError(t, err)
	_, err = kr.Seal(ctx, "alice", "customer.email", []byte("alice@example.com"))
	assert.ErrorIs(t, err, errStoreDown)
	var pe *pii.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "seal", pe.Op)
	assert.Equal(t, "customer.email", pe.Field)
	_, err = kr.Shred(ctx, "alice")
	assert.ErrorIs(t, err, errStoreDown)
}

func TestRewrap(t *testing.T) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	oldKEK, err := aead.New(h)
	require.NoError(t, err)
	store := pii.NewMemKeyStore()
	kr, err := pii.NewKeyring(oldKEK, store, nil)
	require.NoError(t, err)
	const n = 1000
	sealed := make([]string, n)
	for i := range n {
		sealed[i], err = kr.SealString(ctx, dataward.SubjectID(fmt.Sprintf("s%04d", i)), "customer.email", fmt.Sprint(i))
		require.NoError(t, err)
	}
	_, err = kr.Shred(ctx, "s0500")
	require.NoError(t, err)

	// Rotate: a new primary version; the old one still decrypts.
	m := keyset.NewManagerFromHandle(h)
	newID, err := m.Add(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	require.NoError(t, m.SetPrimary(newID))
	rotated, err := m.Handle()
	require.NoError(t, err)
	rotatedKEK, err := aead.New(rotated)
	require.NoError(t, err)
	kr2, err := pii.NewKeyring(rotatedKEK, store, nil)
	require.NoError(t, err)

	// Interrupt after three batches, then resume from the cursor.
	batches := 0
	stop := errors.New("stop here")
	res, err := kr2.Rewrap(ctx, &pii.RewrapOptions{BatchSize: 100, Checkpoint: func(context.Context, dataward.SubjectID) error {
		batches++
		if batches == 3 {
			return stop
		}
		return nil
	}})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, dataward.SubjectID("s0299"), res.Cursor)
	assert.Equal(t, 300, res.Rewrapped)
	res2, err := kr2.Rewrap(ctx, &pii.RewrapOptions{After: res.Cursor, BatchSize: 100})
	require.NoError(t, err)
	assert.Equal(t, n-1-300, res2.Rewrapped, "every live key once; the shredded one is not revived")
	assert.Zero(t, res2.Skipped)

	// Retire the old version: with only the new key left, everything opens.
	require.NoError(t, m.Delete(h.KeysetInfo().GetPrimaryKeyId()))
	newOnly, err := m.Handle()
	require.NoError(t, err)
	require.Len(t, newOnly.KeysetInfo().GetKeyInfo(), 1)
	newKEK, err := aead.New(newOnly)
	require.NoError(t, err)
	kr3, err := pii.NewKeyring(newKEK, store, nil)
	require.NoError(t, err)
	for i := range n {
		got, err := kr3.OpenString(ctx, dataward.SubjectID(fmt.Sprintf("s%04d", i)), "customer.email", sealed[i])
		if i == 500 {
			assert.ErrorIs(t, err, pii.ErrShredded)
			continue
		}
		require.NoError(t, err, "subject %d", i)
		assert.Equal(t, fmt.Sprint(i), got)
	}
}

func TestRewrapReportsKeysItCannotUnwrap(t *testing.T) {
	f := newFixture(t)
	for _, s := range []dataward.SubjectID{"a", "b", "c"} {
		_, err := f.kr.Seal(ctx, s, "f", []byte("v"))
		require.NoError(t, err)
	}
	other, err := pii.NewKeyring(newKEK(t), f.store, nil)
	require.NoError(t, err)
	res, err := other.Rewrap(ctx, nil)
	assert.ErrorIs(t, err, pii.ErrUnwrap)
	assert.Contains(t, err.Error(), `"a"`)
	assert.Zero(t, res.Rewrapped)
	// Nothing was changed: the right KEK still opens everything.
	res, err = f.kr.Rewrap(ctx, &pii.RewrapOptions{BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Rewrapped)
	_, err = f.kr.Rewrap(ctx, &pii.RewrapOptions{BatchSize: -1})
	assert.ErrorIs(t, err, dataward.ErrInvalid)
}

func TestRewrapStopsOnCancel(t *testing.T) {
	f := newFixture(t)
	_, err := f.kr.Seal(ctx, "a", "f", []byte("v"))
	require.NoError(t, err)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.kr.Rewrap(canceled, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestErrorsAndStringsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, "pii.Keyring", f.kr.String())
	assert.Equal(t, "pii.Keyring", fmt.Sprintf("%v", f.kr))
	_, err := f.kr.OpenString(ctx, "alice", "customer.email", "alice@example.com")
	assert.NotContains(t, err.Error(), "alice@example.com")
	_, err = f.kr.Open(ctx, "alice", "customer.email", []byte("dw1:alice@example.com"))
	assert.NotContains(t, err.Error(), "alice@example.com")
}

func TestShreddedMatchesErased(t *testing.T) {
	f := newFixture(t)
	sealed, err := f.kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	_, err = f.kr.Shred(ctx, "alice")
	require.NoError(t, err)
	_, err = f.kr.OpenString(ctx, "alice", "customer.email", sealed)
	require.ErrorIs(t, err, pii.ErrShredded)
	require.ErrorIs(t, err, dataward.ErrErased)
	require.NotErrorIs(t, pii.ErrAuthFailed, dataward.ErrErased)
}

func TestShredAndRewrapAreAudited(t *testing.T) {
	store := audit.NewMemStore()
	logger, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	kr, err := pii.NewKeyring(newKEK(t), pii.NewMemKeyStore(), &pii.Options{Audit: logger})
	require.NoError(t, err)
	_, err = kr.SealString(ctx, "alice", "customer.email", "alice@example.com")
	require.NoError(t, err)
	_, err = kr.Shred(ctx, "alice")
	require.NoError(t, err)
	_, err = kr.Rewrap(ctx, nil)
	require.NoError(t, err)

	events, _, err := logger.Query(ctx, audit.Query{Subject: "alice"})
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, "pii.shred", events[0].Action)
	events, _, err = logger.Query(ctx, audit.Query{Action: "pii.rewrap"})
	require.NoError(t, err)
	require.Len(t, events, 1)

	require.NoError(t, logger.Close(ctx))
	_, err = kr.Shred(ctx, "bob")
	require.ErrorIs(t, err, audit.ErrClosed, "a shred the audit log could not record is reported")
}
