package valid_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/valid"
)

type options struct {
	Name    string        `validate:"required"`
	Size    int           `validate:"gte=1,lte=100"`
	TTL     time.Duration `validate:"gte=0"`
	Mode    string        `validate:"omitempty,oneof=fast safe"`
	Label   string        `validate:"omitempty,printascii"`
	Retries int           `validate:"lt=10"`
}

func TestStructReportsEveryProblem(t *testing.T) {
	err := valid.Struct("retention", "Options", options{Size: 0, TTL: -1, Mode: "slow", Label: "é", Retries: 10})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "retention", ve.Package)
	assert.Equal(t, []dataward.Problem{
		{Field: "Options.Name", Message: "is required"},
		{Field: "Options.Size", Message: "must be at least 1"},
		{Field: "Options.TTL", Message: "must be at least 0"},
		{Field: "Options.Mode", Message: "must be one of fast, safe"},
		{Field: "Options.Label", Message: "must be printable ASCII"},
		{Field: "Options.Retries", Message: "must be less than 10"},
	}, ve.Problems)
}

func TestStructAcceptsValidInput(t *testing.T) {
	assert.NoError(t, valid.Struct("x", "Options", &options{Name: "n", Size: 100, Mode: "safe"}))
}

func TestStructWithoutPrefix(t *testing.T) {
	err := valid.Struct("x", "", options{Size: 1})
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Name", ve.Problems[0].Field)
}

func TestStructOfNonStruct(t *testing.T) {
	err := valid.Struct("x", "Options", 42)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "Options cannot be validated")
}
