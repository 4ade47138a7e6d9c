package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dataward/dataward/audit"
)

// An unknown Sensitivity prints its number, as an unknown Policy does.
func TestSensitivityStringUnknown(t *testing.T) {
	assert.Equal(t, "Sensitivity(3)", audit.Sensitivity(3).String())
	assert.Equal(t, "Sensitivity(12)", audit.Sensitivity(12).String())
	assert.Equal(t, "Sensitivity(255)", audit.Sensitivity(255).String())
}
