package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dataward/dataward/pii/detect"
)

// builtinIndex and builtinTypes are two lists of the same types: each type
// is found at its own place, and a type of the host's at none.
func TestBuiltinIndex(t *testing.T) {
	seen := make(map[detect.Type]bool)
	for i, typ := range builtinTypes {
		assert.Equal(t, i, builtinIndex(typ), "%s", typ)
		assert.False(t, seen[typ], "%s is listed twice", typ)
		seen[typ] = true
	}
	assert.Equal(t, -1, builtinIndex("order-number"))
	assert.Equal(t, -1, builtinIndex(""))
}
