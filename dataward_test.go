package dataward_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
)

func TestSubjectIDProblem(t *testing.T) {
	tests := []struct {
		id   dataward.SubjectID
		want string
	}{
		{"customer-000042", ""},
		{"Zoë Ndlovu <zoe@example.com>", ""},
		{"8c1d9f0e-5d0b-4b7a-9a59-2f9a3c1e0d11", ""},
		{dataward.SubjectID(strings.Repeat("x", dataward.MaxSubjectIDLen)), ""},
		{"", "is empty"},
		{dataward.SubjectID(strings.Repeat("x", dataward.MaxSubjectIDLen+1)), "is longer than 255 bytes"},
		{"line\nbreak", "contains a control character"},
		{"tab\there", "contains a control character"},
		{"del\x7f", "contains a control character"},
		{"long-enough-for-a-word\x00", "contains a control character"},
		{"bad utf-8 \xff", "contains a control character"},
		{"zoë\u0085", "contains a control character"}, // C1 control, after non-ASCII
	}
	for _, tt := range tests {
		got := tt.id.Problem()
		if tt.want == "" {
			assert.Empty(t, got, "%q", tt.id)
			assert.NoError(t, tt.id.Validate(), "%q", tt.id)
			continue
		}
		assert.Equal(t, tt.want, got, "%q", tt.id)
		err := tt.id.Validate()
		require.ErrorIs(t, err, dataward.ErrInvalid)
		assert.Equal(t, "invalid input: subject "+tt.want, err.Error())
	}
}

func TestValidationError(t *testing.T) {
	var ve dataward.ValidationError
	assert.NoError(t, ve.Err(), "no problems, no error")
	var nilVE *dataward.ValidationError
	assert.NoError(t, nilVE.Err())

	ve.Package = "consent"
	err := ve.Add("purpose", "is required").Add("Options.TTL", "must be at least 0").Err()
	require.Error(t, err)
	assert.Equal(t, "consent: invalid input: purpose is required; Options.TTL must be at least 0", err.Error())
	assert.ErrorIs(t, err, dataward.ErrInvalid)
	assert.ErrorIs(t, fmt.Errorf("wrapped: %w", err), dataward.ErrInvalid)

	var got *dataward.ValidationError
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", err), &got)
	assert.Equal(t, []dataward.Problem{{Field: "purpose", Message: "is required"}, {Field: "Options.TTL", Message: "must be at least 0"}}, got.Problems)
	assert.False(t, errors.Is(err, errors.New("invalid input")), "only ErrInvalid itself matches")
}

func TestActorInContext(t *testing.T) {
	ctx := context.Background()
	_, ok := dataward.ActorFrom(ctx)
	assert.False(t, ok)

	a := dataward.Actor{ID: "u-17", Kind: dataward.ActorUser, Tenant: "acme", Roles: []string{"support"}}
	got, ok := dataward.ActorFrom(dataward.WithActor(ctx, a))
	require.True(t, ok)
	assert.Equal(t, a, got)
	assert.False(t, got.IsZero())
	assert.True(t, dataward.Actor{}.IsZero())
}

func TestClocks(t *testing.T) {
	before := time.Now()
	now := dataward.ClockOrSystem(nil).Now()
	assert.False(t, now.Before(before), "nil means the system clock")

	fixed := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := dataward.ClockFunc(func() time.Time { return fixed })
	assert.Equal(t, fixed, dataward.ClockOrSystem(c).Now())
}

func ExampleWithActor() {
	// Middleware establishes who is acting, once per request...
	ctx := dataward.WithActor(context.Background(), dataward.Actor{
		ID:   "staff-17",
		Kind: dataward.ActorUser,
		Roles: []string{
			"support",
		},
	})

	// ...and every package reads it from the context.
	if a, ok := dataward.ActorFrom(ctx); ok {
		fmt.Println(a.Kind, a.ID, a.Roles)
	}
	// Output: user staff-17 [support]
}

func ExampleSubjectID_Validate() {
	for _, id := range []dataward.SubjectID{"customer-000042", "", "line\nbreak"} {
		fmt.Printf("%q: %v\n", id, id.Validate())
	}
	// Output:
	// "customer-000042": <nil>
	// "": invalid input: subject is empty
	// "line\nbreak": invalid input: subject contains a control character
}
