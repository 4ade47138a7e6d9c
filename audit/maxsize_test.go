package audit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// MaxEventSize is one of the limits that Record checks: an event whose
// stored encoding is larger is refused with a ValidationError, and nothing
// is stored, even when each field and list is within its own limit.
func TestRecordEnforcesMaxEventSize(t *testing.T) {
	store := audit.NewMemStore()
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Fields: map[audit.Field]audit.Sensitivity{audit.FieldChanges: audit.Public}})
	require.NoError(t, err)
	long := strings.Repeat("x", audit.MaxFieldLen)
	changes := make([]audit.Change, audit.MaxChanges) // 256 * 3 KiB: 768 KiB
	for i := range changes {
		changes[i] = audit.Change{Field: "f", Before: long, After: long}
	}
	roles := make([]string, 1000) // 1000 KiB
	for i := range roles {
		roles[i] = long
	}
	for name, e := range map[string]audit.Event{
		"changes": {Action: "customer.update", Changes: changes},
		"roles":   {Action: "customer.update", Actor: audit.Actor{ID: "u1", Roles: roles}},
	} {
		err := l.Record(ctx, e)
		var ve *dataward.ValidationError
		assert.ErrorAs(t, err, &ve, "%s: an event larger than MaxEventSize is refused", name)
	}
	n, err := store.Size(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing was stored")
	require.NoError(t, l.Close(ctx))
}
