package audit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// Record keeps no memory of the caller's: a Buffered Record returns at
// once, and the caller may reuse the slices of its event (as it would a
// buffer) without changing what is stored, or storing in clear a value
// it marks Sensitive after the event was protected.
func TestRecordDoesNotRetainCallerSlices(t *testing.T) {
	store := audit.NewMemStore()
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), FlushDelay: time.Hour,
		Fields:   map[audit.Field]audit.Sensitivity{audit.FieldChanges: audit.Public},
		Policies: map[string]audit.Policy{"metrics": audit.Buffered}})
	require.NoError(t, err)
	md := []audit.Attr{{Key: "page", Value: "/home"}}
	roles := []string{"viewer"}
	changes := []audit.Change{{Field: "plan", Before: "free", After: "pro"}}
	require.NoError(t, l.Record(ctx, audit.Event{Class: "metrics", Action: "page.view",
		Actor: audit.Actor{ID: "u1", Roles: roles}, Metadata: md, Changes: changes}))
	// The caller reuses its buffers for the next event.
	md[0] = audit.Attr{Key: "email", Value: "alice@example.com", Sensitivity: audit.Sensitive}
	roles[0] = "admin"
	changes[0] = audit.Change{Field: "x", Before: "a", After: "b"}
	require.NoError(t, l.Close(ctx))

	got, _, err := l.Query(ctx, audit.Query{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []audit.Attr{{Key: "page", Value: "/home"}}, got[0].Metadata)
	assert.Equal(t, []string{"viewer"}, got[0].Actor.Roles)
	assert.Equal(t, []audit.Change{{Field: "plan", Before: "free", After: "pro"}}, got[0].Changes)
	assert.NotContains(t, string(got[0].Data), "alice@example.com", "a Sensitive value is stored in clear")
}
