package pii_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
)

func biKeys(t testing.TB) *keyset.Handle {
	t.Helper()
	h, err := pii.NewIndexKeyset()
	require.NoError(t, err)
	return h
}

func biIndex(t testing.TB, keys *keyset.Handle, field string, opts *pii.IndexOptions) *pii.BlindIndex {
	t.Helper()
	idx, err := pii.NewBlindIndex(keys, field, opts)
	require.NoError(t, err)
	return idx
}

func biPrimaryID(t testing.TB, h *keyset.Handle) uint32 {
	t.Helper()
	e, err := h.Primary()
	require.NoError(t, err)
	return e.KeyID()
}

// biReference computes the index value of an already normalised value
// the long way, straight from the documented construction, to pin the
// format: a change here breaks every stored index.
func biReference(t testing.TB, keys *keyset.Handle, keyID uint32, field, value string, size int) string {
	t.Helper()
	set, err := prf.NewPRFSet(keys)
	require.NoError(t, err)
	p, ok := set.PRFs[keyID]
	require.True(t, ok, "key %d not in the PRF set", keyID)
	key, err := p.ComputePRF([]byte("dataward/pii/blind-index/v1\x00"+field), 32)
	require.NoError(t, err)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return fmt.Sprintf("bi1:%08x:%s", keyID, base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:size]))
}

func biRotate(t testing.TB, h *keyset.Handle) (*keyset.Handle, uint32) {
	t.Helper()
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(prf.HMACSHA256PRFKeyTemplate())
	require.NoError(t, err)
	require.NoError(t, m.SetPrimary(id))
	out, err := m.Handle()
	require.NoError(t, err)
	return out, id
}

var biFormat = regexp.MustCompile(`^bi1:[0-9a-f]{8}:[A-Za-z0-9_-]+$`)

func TestBlindIndexDeterministic(t *testing.T) {
	keys := biKeys(t)
	idx := biIndex(t, keys, "customer.email", nil)

	a := idx.Compute("ann@example.com")
	assert.Equal(t, a, idx.Compute("ann@example.com"), "same value, same index")
	assert.Equal(t, a, biIndex(t, keys, "customer.email", nil).Compute("ann@example.com"), "same keyset and field, another BlindIndex")
	assert.NotEqual(t, a, idx.Compute("bob@example.com"))
	assert.NotEqual(t, a, idx.Compute("Ann@example.com"), "no normaliser: values are indexed as they are")

	assert.Regexp(t, biFormat, a)
	assert.Len(t, a, len("bi1:12345678:")+22, "16 bytes by default: 22 base64url characters")
	assert.Equal(t, fmt.Sprintf("bi1:%08x:", biPrimaryID(t, keys)), a[:13], "names the primary key")
	assert.NotContains(t, a, "ann")

	assert.Equal(t, []string{a}, idx.Candidates("ann@example.com"))
	assert.True(t, idx.Matches("ann@example.com", a))
	assert.False(t, idx.Matches("bob@example.com", a))
	assert.Equal(t, "customer.email", idx.Field())
}

func TestBlindIndexKnownConstruction(t *testing.T) {
	keys := biKeys(t)
	id := biPrimaryID(t, keys)
	long := strings.Repeat("0123456789abcdef", 70) // longer than any internal chunk
	for _, v := range []string{"", "ann@example.com", "ünïcødé", long} {
		for _, size := range []int{4, 16, 32} {
			idx := biIndex(t, keys, "customer.email", &pii.IndexOptions{Bytes: size})
			assert.Equal(t, biReference(t, keys, id, "customer.email", v, size), idx.Compute(v), "len(value)=%d size=%d", len(v), size)
		}
	}
}

func TestBlindIndexEmptyValue(t *testing.T) {
	idx := biIndex(t, biKeys(t), "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	e := idx.Compute("")
	assert.Regexp(t, biFormat, e)
	assert.Equal(t, e, idx.Compute("   "), "white space normalises to the empty value")
	assert.True(t, idx.Matches("", e))
	assert.False(t, idx.Matches("a", e))
}

func TestBlindIndexFieldSeparation(t *testing.T) {
	keys := biKeys(t)
	email := biIndex(t, keys, "customer.email", nil)
	other := biIndex(t, keys, "supplier.email", nil)
	prefix := biIndex(t, keys, "customer.emai", nil)

	v := "ann@example.com"
	assert.NotEqual(t, email.Compute(v), other.Compute(v))
	assert.NotEqual(t, email.Compute(v), prefix.Compute(v))
	assert.False(t, other.Matches(v, email.Compute(v)), "an index value of one field does not match in another")
	// Same key id, different MAC.
	assert.Equal(t, email.Compute(v)[:13], other.Compute(v)[:13])
}

func TestBlindIndexKeysetSeparation(t *testing.T) {
	a := biIndex(t, biKeys(t), "customer.email", nil)
	b := biIndex(t, biKeys(t), "customer.email", nil)
	v := "ann@example.com"
	assert.NotEqual(t, a.Compute(v)[13:], b.Compute(v)[13:])
	assert.False(t, b.Matches(v, a.Compute(v)))
}

func TestBlindIndexRotation(t *testing.T) {
	keys := biKeys(t)
	oldID := biPrimaryID(t, keys)
	v := "ann@example.com"
	before := biIndex(t, keys, "customer.email", nil)
	stored := before.Compute(v) // a row indexed before the rotation

	rotated, newID := biRotate(t, keys)
	after := biIndex(t, rotated, "customer.email", nil)
	assert.Equal(t, `pii.BlindIndex("customer.email", 2 keys)`, after.String())

	now := after.Compute(v)
	assert.NotEqual(t, stored, now, "new values use the new key")
	assert.Equal(t, fmt.Sprintf("bi1:%08x:", newID), now[:13])
	assert.Equal(t, fmt.Sprintf("bi1:%08x:", oldID), stored[:13])

	c := after.Candidates(v)
	assert.Equal(t, []string{now, stored}, c, "primary first, then the old key: rows indexed earlier are found")
	assert.True(t, after.Matches(v, stored))
	assert.True(t, after.Matches(v, now))
	assert.False(t, before.Matches(v, now), "the old index does not know the new key")

	// A second rotation keeps keyset order after the primary.
	rotated2, newer := biRotate(t, rotated)
	c2 := biIndex(t, rotated2, "customer.email", nil).Candidates(v)
	require.Len(t, c2, 3)
	assert.Equal(t, fmt.Sprintf("bi1:%08x:", newer), c2[0][:13])
	assert.Equal(t, []string{stored, now}, c2[1:])

	// Once every row is re-indexed, disabling the old key drops it from lookups.
	m := keyset.NewManagerFromHandle(rotated)
	require.NoError(t, m.Disable(oldID))
	done, err := m.Handle()
	require.NoError(t, err)
	final := biIndex(t, done, "customer.email", nil)
	assert.Equal(t, []string{now}, final.Candidates(v))
	assert.False(t, final.Matches(v, stored))
	assert.True(t, final.Matches(v, now))
}

func TestBlindIndexTruncation(t *testing.T) {
	keys := biKeys(t)
	v := "ann@example.com"
	full := biIndex(t, keys, "customer.email", &pii.IndexOptions{Bytes: 32}).Compute(v)
	fullMAC, err := base64.RawURLEncoding.DecodeString(full[13:])
	require.NoError(t, err)
	require.Len(t, fullMAC, 32)

	for _, tc := range []struct{ bytes, want int }{{0, 16}, {4, 4}, {5, 5}, {8, 8}, {16, 16}, {31, 31}, {32, 32}} {
		t.Run(strconv.Itoa(tc.bytes), func(t *testing.T) {
			idx := biIndex(t, keys, "customer.email", &pii.IndexOptions{Bytes: tc.bytes})
			got := idx.Compute(v)
			assert.Regexp(t, biFormat, got)
			m, err := base64.RawURLEncoding.DecodeString(got[13:])
			require.NoError(t, err)
			assert.Len(t, m, tc.want)
			assert.Equal(t, fullMAC[:tc.want], m, "a truncation of the full MAC")
			assert.True(t, idx.Matches(v, got))
			if tc.want != 32 {
				assert.False(t, idx.Matches(v, full), "another length does not match")
			}
		})
	}
}

func TestBlindIndexMatchesMalformed(t *testing.T) {
	idx := biIndex(t, biKeys(t), "customer.email", nil)
	v := "ann@example.com"
	good := idx.Compute(v)
	flip := []byte(good)
	flip[len(flip)-2] ^= 1
	for name, stored := range map[string]string{
		"empty":        "",
		"clear value":  v,
		"truncated":    good[:len(good)-1],
		"extended":     good + "A",
		"bad version":  "bi2" + good[3:],
		"unknown key":  "bi1:00000000" + good[12:],
		"flipped bit":  string(flip),
		"upper-case":   strings.ToUpper(good),
		"other value":  idx.Compute("bob@example.com"),
		"same length":  strings.Repeat("x", len(good)),
		"prefix only":  good[:13],
		"another form": "bi1:" + good[4:12] + "/" + good[13:],
	} {
		assert.False(t, idx.Matches(v, stored), name)
	}
}

func TestBlindIndexWithNormalizer(t *testing.T) {
	keys := biKeys(t)
	email := biIndex(t, keys, "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	phone := biIndex(t, keys, "customer.phone", &pii.IndexOptions{Normalize: pii.NormalizePhone})
	name := biIndex(t, keys, "customer.name", &pii.IndexOptions{Normalize: pii.NormalizeSpace})

	assert.Equal(t, email.Compute("ann.lee@example.com"), email.Compute("  Ann.Lee@EXAMPLE.com\n"))
	assert.Equal(t, email.Compute("jürgen@bücher.de"), email.Compute("JÜRGEN@Bücher.DE"))
	assert.True(t, email.Matches("ANN.LEE@example.com", email.Compute("ann.lee@example.com")))
	assert.Equal(t, biReference(t, keys, biPrimaryID(t, keys), "customer.email", "ann.lee@example.com", 16), email.Compute(" Ann.Lee@Example.com"))

	assert.Equal(t, phone.Compute("+27825551234"), phone.Compute("+27 82 555 1234"))
	assert.Equal(t, phone.Compute("0825551234"), phone.Compute("082-555-1234"))
	assert.NotEqual(t, phone.Compute("+27825551234"), phone.Compute("0825551234"), "no numbering plan: national and international forms differ")

	assert.Equal(t, name.Compute("ann lee"), name.Compute("  Ann \t LEE "))
}

func TestNormalizers(t *testing.T) {
	tests := []struct {
		name string
		norm pii.Normalizer
		in   string
		want string
	}{
		{"email/plain", pii.NormalizeEmail, "ann@example.com", "ann@example.com"},
		{"email/case", pii.NormalizeEmail, "Ann.Lee@Example.COM", "ann.lee@example.com"},
		{"email/spaces", pii.NormalizeEmail, " \t ann@example.com \r\n", "ann@example.com"},
		{"email/unicode spaces", pii.NormalizeEmail, "\u00a0ann@example.com\u2003", "ann@example.com"},
		{"email/keeps tags and dots", pii.NormalizeEmail, "A.nn+News@Example.com", "a.nn+news@example.com"},
		{"email/unicode", pii.NormalizeEmail, "JÜRGEN@Bücher.DE", "jürgen@bücher.de"},
		{"email/unicode greek", pii.NormalizeEmail, "ΣΩΚΡΑΤΗΣ@παράδειγμα.ελ", "σωκρατησ@παράδειγμα.ελ"},
		{"email/unicode cyrillic", pii.NormalizeEmail, "  Иван@Пример.РФ ", "иван@пример.рф"},
		{"email/mixed then ascii", pii.NormalizeEmail, "É@EXAMPLE.COM", "é@example.com"},
		{"email/invalid utf8 kept", pii.NormalizeEmail, "A\xffB@x", "a\xffb@x"},
		{"email/empty", pii.NormalizeEmail, "", ""},
		{"email/only spaces", pii.NormalizeEmail, "   ", ""},

		{"phone/e164", pii.NormalizePhone, "+27825551234", "+27825551234"},
		{"phone/spaced", pii.NormalizePhone, "+27 82 555 1234", "+27825551234"},
		{"phone/parens dashes", pii.NormalizePhone, "+27 (82) 555-1234", "+27825551234"},
		{"phone/national", pii.NormalizePhone, "082-555-1234", "0825551234"},
		{"phone/dots", pii.NormalizePhone, "082.555.1234", "0825551234"},
		{"phone/us", pii.NormalizePhone, "+1 (415) 555-0100", "+14155550100"},
		{"phone/plus in parens", pii.NormalizePhone, "(+27) 82 555 1234", "+27825551234"},
		{"phone/inner plus dropped", pii.NormalizePhone, "082+555+1234", "0825551234"},
		{"phone/double plus", pii.NormalizePhone, "++27 82", "+2782"},
		{"phone/extension digits kept", pii.NormalizePhone, "021 555 1234 ext. 12", "021555123412"},
		{"phone/surrounding spaces", pii.NormalizePhone, "  0825551234\n", "0825551234"},
		{"phone/non-ascii digits dropped", pii.NormalizePhone, "０８２ 555", "555"},
		{"phone/empty", pii.NormalizePhone, "", ""},

		{"space/plain", pii.NormalizeSpace, "ann lee", "ann lee"},
		{"space/trim collapse lower", pii.NormalizeSpace, "  Ann \t  LEE\n", "ann lee"},
		{"space/newlines", pii.NormalizeSpace, "1 Main Rd\r\nCape Town", "1 main rd cape town"},
		{"space/unicode spaces", pii.NormalizeSpace, "Ann\u00a0\u2003Lee", "ann lee"},
		{"space/unicode letters", pii.NormalizeSpace, " Zoë  ÅSTRÖM ", "zoë åström"},
		{"space/only spaces", pii.NormalizeSpace, " \t\n ", ""},
		{"space/empty", pii.NormalizeSpace, "", ""},
		{"space/invalid utf8 kept", pii.NormalizeSpace, "A \xff  B", "a \xff b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(tc.norm(nil, tc.in)))
			// It appends: what dst holds already is kept.
			dst := append(make([]byte, 0, 64), "prefix|"...)
			assert.Equal(t, "prefix|"+tc.want, string(tc.norm(dst, tc.in)))
		})
	}
}

func TestNormalizersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 128)
	for name, n := range map[string]pii.Normalizer{"email": pii.NormalizeEmail, "phone": pii.NormalizePhone, "space": pii.NormalizeSpace} {
		for _, in := range []string{" Ann.Lee@Example.COM ", " Jürgen  Bücher "} {
			allocs := testing.AllocsPerRun(100, func() { buf = n(buf[:0], in) })
			assert.Zero(t, allocs, "%s(%q)", name, in)
		}
	}
}

func TestNewBlindIndexBadOptions(t *testing.T) {
	keys := biKeys(t)
	t.Run("every problem listed", func(t *testing.T) {
		idx, err := pii.NewBlindIndex(nil, "", &pii.IndexOptions{Bytes: 3})
		assert.Nil(t, idx)
		require.Error(t, err)
		assert.ErrorIs(t, err, dataward.ErrInvalid)
		var ve *dataward.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "pii", ve.Package)
		assert.Equal(t, []dataward.Problem{
			{Field: "keys", Message: "is required"},
			{Field: "field", Message: "is required"},
			{Field: "IndexOptions.Bytes", Message: "must be between 4 and 32"},
		}, ve.Problems)
		assert.Equal(t, "pii: invalid input: keys is required; field is required; IndexOptions.Bytes must be between 4 and 32", err.Error())
	})
	for _, tc := range []struct {
		name  string
		field string
		opts  *pii.IndexOptions
		want  dataward.Problem
	}{
		{"empty field", "", nil, dataward.Problem{Field: "field", Message: "is required"}},
		{"bytes negative", "customer.email", &pii.IndexOptions{Bytes: -1}, dataward.Problem{Field: "IndexOptions.Bytes", Message: "must be between 4 and 32"}},
		{"bytes too few", "customer.email", &pii.IndexOptions{Bytes: 3}, dataward.Problem{Field: "IndexOptions.Bytes", Message: "must be between 4 and 32"}},
		{"bytes too many", "customer.email", &pii.IndexOptions{Bytes: 33}, dataward.Problem{Field: "IndexOptions.Bytes", Message: "must be between 4 and 32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := pii.NewBlindIndex(keys, tc.field, tc.opts)
			assert.Nil(t, idx)
			assert.ErrorIs(t, err, dataward.ErrInvalid)
			var ve *dataward.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, []dataward.Problem{tc.want}, ve.Problems)
		})
	}
	t.Run("nil options are defaults", func(t *testing.T) {
		a := biIndex(t, keys, "customer.email", nil)
		b := biIndex(t, keys, "customer.email", &pii.IndexOptions{Bytes: pii.DefaultIndexBytes})
		assert.Equal(t, a.Compute("x"), b.Compute("x"))
	})
}

func TestNewBlindIndexBadKeyset(t *testing.T) {
	handle := func(tmpl func() (*keyset.Handle, error)) *keyset.Handle {
		h, err := tmpl()
		require.NoError(t, err)
		return h
	}
	aeadKeys := handle(func() (*keyset.Handle, error) { return keyset.NewHandle(aead.AES256GCMKeyTemplate()) })
	macKeys := handle(func() (*keyset.Handle, error) { return keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate()) })
	cmacKeys := handle(func() (*keyset.Handle, error) { return keyset.NewHandle(prf.AESCMACPRFKeyTemplate()) })
	mixed := handle(func() (*keyset.Handle, error) {
		m := keyset.NewManagerFromHandle(biKeys(t))
		if _, err := m.Add(aead.AES128GCMKeyTemplate()); err != nil {
			return nil, err
		}
		return m.Handle()
	})
	hkdfKeys := handle(func() (*keyset.Handle, error) { return keyset.NewHandle(prf.HKDFSHA256PRFKeyTemplate()) })
	sha512Keys := handle(func() (*keyset.Handle, error) { return keyset.NewHandle(prf.HMACSHA512PRFKeyTemplate()) })

	for _, tc := range []struct {
		name string
		keys *keyset.Handle
		want string
	}{
		{"nil", nil, "keys is required"},
		{"empty handle", &keyset.Handle{}, "keys holds no key"},
		{"AEAD keyset", aeadKeys, "keys must hold only PRF keys"},
		{"MAC keyset", macKeys, "keys must hold only PRF keys"},
		{"PRF and AEAD keys", mixed, "keys must hold only PRF keys"},
		{"AES-CMAC PRF (16-byte output)", cmacKeys, "cannot derive a 32-byte index key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := pii.NewBlindIndex(tc.keys, "customer.email", nil)
			assert.Nil(t, idx)
			require.Error(t, err)
			assert.ErrorIs(t, err, dataward.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "pii: "), err.Error())
		})
	}
	// Other PRFs that give 32 bytes work.
	for name, h := range map[string]*keyset.Handle{"HKDF-SHA256": hkdfKeys, "HMAC-SHA512": sha512Keys} {
		idx, err := pii.NewBlindIndex(h, "customer.email", nil)
		if assert.NoError(t, err, name) {
			assert.Regexp(t, biFormat, idx.Compute("x"), name)
		}
	}
}

func biKEK(t testing.TB) tink.AEAD {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	require.NoError(t, err)
	a, err := aead.New(h)
	require.NoError(t, err)
	return a
}

func TestIndexKeysetWriteRead(t *testing.T) {
	keys, _ := biRotate(t, biKeys(t)) // two keys: both must survive
	kek := biKEK(t)
	var buf bytes.Buffer
	require.NoError(t, pii.WriteIndexKeyset(&buf, keys, kek))
	stored := buf.Bytes()

	t.Run("round trip", func(t *testing.T) {
		got, err := pii.ReadIndexKeyset(bytes.NewReader(stored), kek)
		require.NoError(t, err)
		v := "ann@example.com"
		want := biIndex(t, keys, "customer.email", nil)
		have := biIndex(t, got, "customer.email", nil)
		assert.Equal(t, want.Candidates(v), have.Candidates(v))
	})
	t.Run("tink JSON", func(t *testing.T) {
		// It is Tink's encrypted JSON format, readable with keyset.ReadWithAssociatedData.
		got, err := keyset.ReadWithAssociatedData(keyset.NewJSONReader(bytes.NewReader(stored)), kek, []byte("dataward/pii/index-keyset/v1"))
		require.NoError(t, err)
		assert.Equal(t, 2, got.Len())
		assert.Contains(t, string(stored), "encryptedKeyset")
	})
	t.Run("wrong KEK", func(t *testing.T) {
		got, err := pii.ReadIndexKeyset(bytes.NewReader(stored), biKEK(t))
		assert.Nil(t, got)
		require.Error(t, err)
		var pe *pii.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "read index keyset", pe.Op)
		assert.True(t, strings.HasPrefix(err.Error(), "pii: read index keyset: "), err.Error())
	})
	t.Run("written without the associated data", func(t *testing.T) {
		var plain bytes.Buffer
		require.NoError(t, keys.Write(keyset.NewJSONWriter(&plain), kek))
		_, err := pii.ReadIndexKeyset(&plain, kek)
		assert.Error(t, err)
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := pii.ReadIndexKeyset(strings.NewReader("not json"), kek)
		var pe *pii.Error
		assert.ErrorAs(t, err, &pe)
	})
	t.Run("nil arguments", func(t *testing.T) {
		err := pii.WriteIndexKeyset(nil, nil, nil)
		assert.ErrorIs(t, err, dataward.ErrInvalid)
		assert.EqualError(t, err, "pii: invalid input: w is required; keys is required; kek is required")
		_, err = pii.ReadIndexKeyset(nil, nil)
		assert.ErrorIs(t, err, dataward.ErrInvalid)
		assert.EqualError(t, err, "pii: invalid input: r is required; kek is required")
	})
}

func TestBlindIndexString(t *testing.T) {
	keys := biKeys(t)
	idx := biIndex(t, keys, "customer.email", nil)
	assert.Equal(t, `pii.BlindIndex("customer.email", 1 key)`, idx.String())
	var nilIdx *pii.BlindIndex
	assert.Equal(t, "pii.BlindIndex(nil)", nilIdx.String())

	_ = idx.Compute("ann@example.com") // fill the pools
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "index", idx)
	for _, s := range []string{
		fmt.Sprint(idx), fmt.Sprintf("%v %+v %#v %s", idx, idx, idx, idx), fmt.Sprintf("%+v %#v", *idx, *idx), logged.String(),
	} {
		assert.Contains(t, s, "customer.email")
		assert.NotContains(t, s, "ann@example.com")
	}
	assert.Contains(t, logged.String(), `"index":"pii.BlindIndex(\"customer.email\", 1 key)"`)
}

func TestBlindIndexAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under -race, where sync.Pool drops items at random; runs in go test without -race")
	}
	keys, _ := biRotate(t, biKeys(t))
	plain := biIndex(t, keys, "customer.email", nil)
	email := biIndex(t, keys, "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	v := strings.Repeat("a", 50) + "@example.co.za" // 64 bytes
	stored := plain.Compute(v)

	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = plain.Compute(v) }), 1.0, "Compute")
	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = email.Compute(" Ann.Lee@Example.com ") }), 1.0, "Compute with NormalizeEmail")
	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = email.Compute("Jürgen@Bücher.DE") }), 1.0, "Compute with Unicode NormalizeEmail")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = plain.Matches(v, stored) }), "Matches")
	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = plain.Candidates(v) }), 3.0, "Candidates: the slice and one string per key")
}

func TestBlindIndexConcurrent(t *testing.T) {
	keys := biKeys(t)
	idx := biIndex(t, keys, "customer.email", &pii.IndexOptions{Normalize: pii.NormalizeEmail})
	values := []string{"a@x.io", "B@X.io", "ünï@x.io", strings.Repeat("long", 500) + "@x.io"}
	want := make([]string, len(values))
	for i, v := range values {
		want[i] = idx.Compute(v)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				j := (g + i) % len(values)
				if got := idx.Compute(values[j]); got != want[j] {
					errs <- errors.New("Compute differs under concurrency")
					return
				}
				if !idx.Matches(values[j], want[j]) {
					errs <- errors.New("Matches fails under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
