package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strconv"
	"sync"

	"github.com/dataward/dataward"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Truncation limits of a blind index value, in bytes of HMAC-SHA256 output
// kept (see [IndexOptions.Bytes]).
const (
	MinIndexBytes     = 4  // the fewest bytes an index may keep
	MaxIndexBytes     = 32 // the whole HMAC-SHA256 output
	DefaultIndexBytes = 16 // what an index keeps when IndexOptions.Bytes is 0
)

const (
	// indexVersion starts every index value: "bi1:<key id>:<MAC>".
	indexVersion = "bi1:"
	// indexPrefixLen is the length of "bi1:" + 8 hex digits + ":".
	indexPrefixLen = len(indexVersion) + 8 + 1
	// maxIndexLen is the length of the longest index value.
	maxIndexLen = indexPrefixLen + (MaxIndexBytes*8+5)/6
	// indexKeyLabel precedes the field name in the PRF input that derives
	// the index key of a field: one key per field context.
	indexKeyLabel = "dataward/pii/blind-index/v1\x00"
	// indexKeyLen is the length of a derived index key.
	indexKeyLen = 32
	// indexKeysetAD is the associated data that binds an encrypted index
	// keyset to its purpose.
	indexKeysetAD = "dataward/pii/index-keyset/v1"
	// maxPooledBuf bounds the normalisation buffer kept in a pooled state,
	// so that one huge value does not pin memory.
	maxPooledBuf = 4 << 10
)

// NewIndexKeyset creates a keyset of one HMAC-SHA256 PRF key
// ([prf.HMACSHA256PRFKeyTemplate]) for [NewBlindIndex]. One keyset can
// serve every field: each index derives its own key from it for its field.
//
// The keyset is secret. Store it encrypted under the master key with
// [WriteIndexKeyset] and load it with [ReadIndexKeyset]. To rotate it, add a
// key and make it primary with [keyset.NewManagerFromHandle]; see
// [BlindIndex] for how a rotation proceeds.
func NewIndexKeyset() (*keyset.Handle, error) {
	h, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
	if err != nil {
		return nil, &Error{Op: "new index keyset", Err: err}
	}
	return h, nil
}

// WriteIndexKeyset encrypts the index keyset keys with the master key kek
// and writes it to w as JSON. It is handle.Write(keyset.NewJSONWriter(w),
// kek) with the associated data "dataward/pii/index-keyset/v1", which binds
// the encrypted keyset to its purpose: another keyset encrypted under the
// same master key cannot be passed off as the index keyset.
//
// Returns a [dataward.ValidationError] if an argument is nil, and an
// [*Error] if encryption or writing fails.
func WriteIndexKeyset(w io.Writer, keys *keyset.Handle, kek tink.AEAD) error {
	ve := &dataward.ValidationError{Package: "pii"}
	if w == nil {
		ve.Add("w", "is required")
	}
	if keys == nil {
		ve.Add("keys", "is required")
	}
	if kek == nil {
		ve.Add("kek", "is required")
	}
	if err := ve.Err(); err != nil {
		return err
	}
	if err := keys.WriteWithAssociatedData(keyset.NewJSONWriter(w), kek, []byte(indexKeysetAD)); err != nil {
		return &Error{Op: "write index keyset", Err: err}
	}
	return nil
}

// ReadIndexKeyset reads an index keyset written by [WriteIndexKeyset] from
// r and decrypts it with the master key kek.
//
// Returns a [dataward.ValidationError] if an argument is nil, and an
// [*Error] if reading or decryption fails: the data is not an encrypted
// keyset, kek is not the master key it was written with, or it was not
// written by WriteIndexKeyset (the associated data differs).
func ReadIndexKeyset(r io.Reader, kek tink.AEAD) (*keyset.Handle, error) {
	ve := &dataward.ValidationError{Package: "pii"}
	if r == nil {
		ve.Add("r", "is required")
	}
	if kek == nil {
		ve.Add("kek", "is required")
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewJSONReader(r), kek, []byte(indexKeysetAD))
	if err != nil {
		return nil, &Error{Op: "read index keyset", Err: err}
	}
	return h, nil
}

// IndexOptions configures a [BlindIndex]. A nil *IndexOptions means the
// zero value: values indexed as they are, 16 bytes kept.
type IndexOptions struct {
	// Normalize puts a value into canonical form before it is hashed, so
	// that spellings meaning the same value index alike: [NormalizeEmail],
	// [NormalizePhone], [NormalizeSpace] or one of your own. Nil indexes
	// values exactly as given.
	Normalize Normalizer

	// Bytes is how many bytes of the HMAC-SHA256 output an index value
	// keeps, from [MinIndexBytes] (4) to [MaxIndexBytes] (32); 0 means
	// [DefaultIndexBytes] (16).
	//
	// Fewer bytes mean more collisions (distinct values that share an
	// index value), and that is a privacy feature: an index value that
	// many values share no longer pins down one of them, so a copy of the
	// table, or someone testing guesses against it, learns less (for
	// example, whether two rows hold the same e-mail address). The price
	// is that a lookup can also return rows holding other values, which
	// the host filters out by opening the sealed column. With n distinct
	// values in a field, about n²/2^(8·Bytes+1) pairs of them collide: at
	// 4 bytes a field of 100 000 addresses has about one colliding pair;
	// at 16 bytes collisions are practically impossible.
	//
	// Bytes is part of an index's identity: values computed with another
	// length neither equal nor [BlindIndex.Matches] the new ones.
	Bytes int
}

// BlindIndex computes blind indexes for one field context, such as
// "customer.email": keyed hashes of a value, stored beside its sealed
// column, that let a host find rows by value (WHERE email_idx = ?) although
// the sealed values themselves are randomised. Make one with
// [NewBlindIndex]. A BlindIndex is safe for concurrent use.
//
// An index value looks like "bi1:1a2b3c4d:Mw0r…": a format version, the id
// of the keyset key that made it, and the truncated HMAC-SHA256, in
// unpadded base64url. It holds no clear text, but anyone with the keyset
// can test guesses against it, so the keyset is as secret as the data.
//
// # Separation
//
// Each field context has its own key, derived from every key of the keyset
// by the PRF, so the same value indexes differently in different fields
// ("customer.email" and "supplier.email") and under different keysets: an
// index column cannot be joined with another field's or another
// deployment's.
//
// # Rotation
//
// To rotate the index key, add a key to the keyset and make it primary
// (with [keyset.NewManagerFromHandle], Manager.Add and
// Manager.SetPrimary), store the keyset, and build the indexes anew from
// it. [BlindIndex.Compute] then uses the new key, while
// [BlindIndex.Candidates] returns the index value under every enabled key,
// primary first, so that a lookup (WHERE email_idx IN (...)) still finds
// rows indexed under the old key. When such a row is found, or by a
// background job, the host writes the row's current value
// ([BlindIndex.Compute]) to its index column. Once no row holds an old
// value, disable or delete the old key. Disabled keys take no part in
// lookups.
type BlindIndex struct {
	field     string
	normalize Normalizer
	size      int         // bytes of MAC kept
	outLen    int         // length of every index value
	keys      []*indexKey // primary first
}

// indexKey is the derived key of one field under one keyset key.
type indexKey struct {
	id     uint32
	prefix [indexPrefixLen]byte // "bi1:<id hex>:"
	pool   sync.Pool            // of *macState keyed with this key
}

// macState is the pooled working state of one index computation. Keeping
// buffers here, rather than on the stack, is what keeps Compute down to one
// allocation: slices passed to a hash.Hash escape.
type macState struct {
	h     hash.Hash
	sum   [sha256.Size]byte
	chunk [256]byte // copies of the clear value, when there is no normaliser
	buf   []byte    // normalised value
}

// NewBlindIndex returns the blind index of field (e.g. "customer.email")
// under keys, a keyset of PRF keys such as [NewIndexKeyset] creates. The
// field's key is derived, once for every enabled key of the keyset, as the
// first 32 bytes of the key's PRF of "dataward/pii/blind-index/v1", a zero
// byte and field; index values are then HMAC-SHA256 under that key. The
// keyset's keys must be able to produce 32 bytes of PRF output (HMAC and
// HKDF PRF keys can; AES-CMAC PRF keys cannot).
//
// An empty field is refused; an empty value is indexed like any other.
//
// Returns a [dataward.ValidationError] listing every problem with the
// arguments: keys nil, empty or holding a key that is not a suitable PRF
// key; field empty; opts.Bytes out of range.
func NewBlindIndex(keys *keyset.Handle, field string, opts *IndexOptions) (*BlindIndex, error) {
	var o IndexOptions
	if opts != nil {
		o = *opts
	}
	ve := &dataward.ValidationError{Package: "pii"}
	var set *prf.Set
	switch {
	case keys == nil:
		ve.Add("keys", "is required")
	case keys.Len() == 0:
		ve.Add("keys", "holds no key")
	default:
		var err error
		if set, err = prf.NewPRFSet(keys); err != nil {
			ve.Add("keys", "must hold only PRF keys, such as NewIndexKeyset makes")
		} else if _, ok := set.PRFs[set.PrimaryID]; !ok {
			ve.Add("keys", "has no enabled primary key")
			set = nil
		}
	}
	if field == "" {
		ve.Add("field", "is required")
	}
	size := o.Bytes
	if size == 0 {
		size = DefaultIndexBytes
	} else if size < MinIndexBytes || size > MaxIndexBytes {
		ve.Add("IndexOptions.Bytes", "must be between "+strconv.Itoa(MinIndexBytes)+" and "+strconv.Itoa(MaxIndexBytes))
	}

	b := &BlindIndex{
		field:     field,
		normalize: o.Normalize,
		size:      size,
		outLen:    indexPrefixLen + base64.RawURLEncoding.EncodedLen(size),
	}
	if set != nil && field != "" {
		// Primary first, then the other enabled keys in keyset order.
		ids := []uint32{set.PrimaryID}
		for i := range keys.Len() {
			e, err := keys.Entry(i)
			if err != nil {
				continue
			}
			if _, ok := set.PRFs[e.KeyID()]; ok && e.KeyID() != set.PrimaryID {
				ids = append(ids, e.KeyID())
			}
		}
		input := []byte(indexKeyLabel + field)
		for _, id := range ids {
			key, err := set.PRFs[id].ComputePRF(input, indexKeyLen)
			if err != nil || len(key) != indexKeyLen {
				ve.Add("keys", fmt.Sprintf("key %d cannot derive a %d-byte index key; use HMAC-SHA256 PRF keys, such as NewIndexKeyset makes", id, indexKeyLen))
				continue
			}
			b.keys = append(b.keys, newIndexKey(id, key))
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

func newIndexKey(id uint32, key []byte) *indexKey {
	k := &indexKey{id: id}
	copy(k.prefix[:], indexVersion)
	var idb [4]byte
	idb[0], idb[1], idb[2], idb[3] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
	hex.Encode(k.prefix[len(indexVersion):], idb[:])
	k.prefix[indexPrefixLen-1] = ':'
	k.pool.New = func() any {
		h := hmac.New(sha256.New, key)
		// The first Reset makes crypto/hmac save the hash states after the
		// keyed pads, so that every later Reset restores them instead of
		// hashing the pads again.
		h.Reset()
		return &macState{h: h}
	}
	return k
}

// Field returns the field context of the index, e.g. "customer.email".
func (b *BlindIndex) Field() string { return b.field }

// Compute returns the index value of value under the primary key: what the
// host stores in the index column when it writes the row.
func (b *BlindIndex) Compute(value string) string {
	var out [maxIndexLen]byte
	n := b.compute(b.keys[0], value, &out)
	return string(out[:n])
}

// Candidates returns the index values of value under every enabled key of
// the keyset, primary first: what a host looks up with
// WHERE email_idx IN (...), so that rows indexed before a key rotation are
// still found. Outside a rotation it holds one value, equal to
// [BlindIndex.Compute] of value.
func (b *BlindIndex) Candidates(value string) []string {
	c := make([]string, len(b.keys))
	var out [maxIndexLen]byte
	for i, k := range b.keys {
		n := b.compute(k, value, &out)
		c[i] = string(out[:n])
	}
	return c
}

// Matches reports whether stored is the index value of value under one of
// the enabled keys, comparing the MAC in constant time. It is false for a
// stored value that is malformed, names a key that is not in the keyset
// (or is disabled), or was computed with another [IndexOptions.Bytes].
func (b *BlindIndex) Matches(value, stored string) bool {
	if len(stored) != b.outLen {
		return false
	}
	for _, k := range b.keys {
		// The key id is public: choosing the key by it leaks nothing.
		if stored[:indexPrefixLen] != string(k.prefix[:]) {
			continue
		}
		var out, st [maxIndexLen]byte
		n := b.compute(k, value, &out)
		copy(st[:], stored)
		return subtle.ConstantTimeCompare(out[:n], st[:n]) == 1
	}
	return false
}

// compute writes the index value of value under k to out and returns its
// length.
func (b *BlindIndex) compute(k *indexKey, value string, out *[maxIndexLen]byte) int {
	st := k.pool.Get().(*macState)
	st.h.Reset()
	if b.normalize == nil {
		for len(value) > 0 {
			n := copy(st.chunk[:], value)
			st.h.Write(st.chunk[:n])
			value = value[n:]
		}
		clear(st.chunk[:])
	} else {
		st.buf = b.normalize(st.buf[:0], value)
		st.h.Write(st.buf)
		clear(st.buf)
		if cap(st.buf) > maxPooledBuf {
			st.buf = nil
		}
	}
	mac := st.h.Sum(st.sum[:0])
	n := copy(out[:], k.prefix[:])
	base64.RawURLEncoding.Encode(out[n:], mac[:b.size])
	k.pool.Put(st)
	return b.outLen
}

// String returns a description such as
// pii.BlindIndex("customer.email", 2 keys). It holds no key material and no
// value.
func (b *BlindIndex) String() string {
	if b == nil {
		return "pii.BlindIndex(nil)"
	}
	unit := "keys"
	if len(b.keys) == 1 {
		unit = "key"
	}
	return fmt.Sprintf("pii.BlindIndex(%q, %d %s)", b.field, len(b.keys), unit)
}

// GoString returns the same as [BlindIndex.String], so that %#v does not
// print the derived keys.
func (b *BlindIndex) GoString() string { return b.String() }

// LogValue returns the same as [BlindIndex.String], for [log/slog].
func (b *BlindIndex) LogValue() slog.Value { return slog.StringValue(b.String()) }
