package pii_test

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sealedCustomer struct {
	ID       int
	Email    string  `pii:"email,category=user.contact.email"`
	Phone    *string `pii:"phone,category=user.contact.phone_number"`
	Name     pii.Text
	Nickname pii.Text `pii:""` // a named string type; name defaults to "nickname"
	Notes    []byte   `pii:"notes"`
	Country  string
}

func newSealedCustomer() sealedCustomer {
	phone := "+27 82 555 1234"
	return sealedCustomer{ID: 7, Email: "alice@example.com", Phone: &phone, Name: "Alice", Nickname: "Al", Notes: []byte("prefers e-mail"), Country: "ZA"}
}

func TestSealFieldsRoundTrip(t *testing.T) {
	f := newFixture(t)
	c := newSealedCustomer()
	require.NoError(t, f.kr.SealFields(ctx, "alice", "customer", &c))

	assert.True(t, pii.IsSealedString(c.Email))
	assert.True(t, pii.IsSealedString(*c.Phone))
	assert.True(t, pii.IsSealedString(string(c.Nickname)))
	assert.True(t, pii.IsSealed(c.Notes))
	assert.Equal(t, pii.Text("Alice"), c.Name, "untagged fields are left alone")
	assert.Equal(t, "ZA", c.Country)
	assert.Equal(t, 7, c.ID)

	// A sealed field opens alone with the context record + "." + name.
	email, err := f.kr.OpenString(ctx, "alice", "customer.email", c.Email)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", email)

	require.NoError(t, f.kr.OpenFields(ctx, "alice", "customer", &c))
	assert.Equal(t, newSealedCustomer(), c)
}

func TestSealFieldsLeavesEmptyValues(t *testing.T) {
	f := newFixture(t)
	c := sealedCustomer{ID: 1}
	require.NoError(t, f.kr.SealFields(ctx, "alice", "customer", &c))
	assert.Equal(t, sealedCustomer{ID: 1}, c)
	require.NoError(t, f.kr.OpenFields(ctx, "alice", "customer", &c))
	assert.Equal(t, sealedCustomer{ID: 1}, c)
	recs, err := f.store.List(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, recs, "nothing to seal, so no key is made")
}

func TestSealFieldsIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	c := newSealedCustomer()
	require.NoError(t, f.kr.SealFields(ctx, "alice", "customer", &c))
	sealed := c

	// One field was replaced by a clear value: OpenFields changes nothing.
	c.Notes = []byte("clear text")
	err := f.kr.OpenFields(ctx, "alice", "customer", &c)
	require.ErrorIs(t, err, pii.ErrNotSealed)
	assert.Contains(t, err.Error(), `"customer.notes"`)
	assert.Equal(t, sealed.Email, c.Email, "no field may be opened when another fails")
	assert.Equal(t, sealed.Phone, c.Phone)

	// Sealing twice is refused, and changes nothing.
	half := newSealedCustomer()
	half.Notes = sealed.Notes
	before := half
	err = f.kr.SealFields(ctx, "alice", "customer", &half)
	require.ErrorIs(t, err, pii.ErrAlreadySealed)
	assert.Equal(t, before, half)

	// Fields are bound to their record and subject.
	c = sealed
	assert.ErrorIs(t, f.kr.OpenFields(ctx, "alice", "order", &c), pii.ErrAuthFailed)
	assert.ErrorIs(t, f.kr.OpenFields(ctx, "bob", "customer", &c), pii.ErrKeyNotFound)
	assert.Equal(t, sealed, c)
}

func TestSealFieldsAfterShred(t *testing.T) {
	f := newFixture(t)
	c := newSealedCustomer()
	require.NoError(t, f.kr.SealFields(ctx, "alice", "customer", &c))
	_, err := f.kr.Shred(ctx, "alice")
	require.NoError(t, err)
	assert.ErrorIs(t, f.kr.OpenFields(ctx, "alice", "customer", &c), pii.ErrShredded)
	fresh := newSealedCustomer()
	assert.ErrorIs(t, f.kr.SealFields(ctx, "alice", "customer", &fresh), pii.ErrShredded)
	assert.Equal(t, newSealedCustomer(), fresh)
}

type badTags struct {
	Age     int               `pii:"age"`
	Tags    map[string]string `pii:"tags"`
	secret  string            `pii:"secret"`
	Email   string            `pii:"email,unknown=1"`
	Email2  string            `pii:"email"`
	Kind    string            `pii:"kind,category=user.not.a.category"`
	Comma   string            `pii:"a b"`
	Ignored int
}

func TestSealFieldsReportsEveryBadTag(t *testing.T) {
	f := newFixture(t)
	var v badTags
	err := f.kr.SealFields(ctx, "alice", "thing", &v)
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	msg := err.Error()
	for _, want := range []string{
		"badTags.Age has type int",
		"badTags.Tags has type map[string]string",
		"badTags.secret is unexported",
		`badTags.Email tag has unknown option "unknown=1"`,
		`badTags.Email2 tag name "email" is also used by Email`,
		`badTags.Kind tag option category="user.not.a.category" is not a fideslang data category`,
		"badTags.Comma tag name contains a space or comma",
	} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, ve.Problems, 7)
	// Reported the same way every time (the plan is cached with its error).
	assert.Equal(t, msg, f.kr.OpenFields(ctx, "alice", "thing", &v).Error())
	_, err = pii.TaggedFields(v)
	assert.Equal(t, msg, err.Error())
	_ = v.secret
}

func TestSealFieldsRejectsNonStructs(t *testing.T) {
	f := newFixture(t)
	var c sealedCustomer
	var nilPtr *sealedCustomer
	for _, v := range []any{nil, c, nilPtr, new(int), "x"} {
		err := f.kr.SealFields(ctx, "alice", "customer", v)
		assert.ErrorIs(t, err, dataward.ErrInvalid, "%T", v)
		assert.ErrorContains(t, err, "must be a non-nil pointer to a struct")
	}
	assert.ErrorIs(t, f.kr.SealFields(ctx, "", "customer", &c), dataward.ErrInvalid)
	assert.ErrorIs(t, f.kr.SealFields(ctx, "alice", "", &c), dataward.ErrInvalid)
	long := strings.Repeat("r", 250)
	err := f.kr.SealFields(ctx, "alice", long, &c)
	assert.ErrorContains(t, err, "field is longer than 255 bytes", "record + name must fit too")
}

func TestTaggedFields(t *testing.T) {
	got, err := pii.TaggedFields(&sealedCustomer{})
	require.NoError(t, err)
	assert.Equal(t, []pii.TaggedField{
		{GoName: "Email", Name: "email", Category: "user.contact.email"},
		{GoName: "Phone", Name: "phone", Category: "user.contact.phone_number"},
		{GoName: "Nickname", Name: "nickname"},
		{GoName: "Notes", Name: "notes"},
	}, got)
	_, err = pii.TaggedFields(42)
	assert.ErrorIs(t, err, dataward.ErrInvalid)
}

// The fields of one struct share one random draw for their nonces; the
// nonces must still differ, field by field and struct by struct, and each
// field must open only as itself.
func TestSealFieldsUsesDistinctNonces(t *testing.T) {
	type twenty struct {
		F00, F01, F02, F03, F04, F05, F06, F07, F08, F09 string `pii:""`
		F10, F11, F12, F13, F14, F15, F16, F17, F18, F19 []byte `pii:""`
	}
	f := newFixture(t)
	nonces := make(map[string]string)
	for round := range 50 {
		v := "same value"
		b := []byte(v)
		s := twenty{v, v, v, v, v, v, v, v, v, v, b, b, b, b, b, b, b, b, b, b}
		require.NoError(t, f.kr.SealFields(ctx, "alice", "record", &s))
		rv := reflect.ValueOf(s)
		for i := range rv.NumField() {
			var bin []byte
			if fv := rv.Field(i); fv.Kind() == reflect.String {
				var err error
				bin, err = base64.RawURLEncoding.DecodeString(strings.TrimPrefix(fv.String(), pii.TextPrefix))
				require.NoError(t, err)
			} else {
				bin = fv.Bytes()
			}
			nonce := string(bin[6:18])
			where := fmt.Sprintf("round %d field %s", round, rv.Type().Field(i).Name)
			if prev, dup := nonces[nonce]; dup {
				t.Fatalf("%s reuses the nonce of %s", where, prev)
			}
			nonces[nonce] = where
		}
		// Swapping two sealed fields must not open.
		s.F00, s.F01 = s.F01, s.F00
		err := f.kr.OpenFields(ctx, "alice", "record", &s)
		require.ErrorIs(t, err, pii.ErrAuthFailed)
		s.F00, s.F01 = s.F01, s.F00
		require.NoError(t, f.kr.OpenFields(ctx, "alice", "record", &s))
		require.Equal(t, v, s.F07)
		require.Equal(t, b, s.F19)
	}
}
