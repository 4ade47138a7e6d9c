package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// Query opens Secret values only: a Public value that happens to start as
// a sealed one does ("dw1:", here a user agent a client chose) is read
// back as it was recorded, not as [sealed].
func TestQueryKeepsPublicValuesThatLookSealed(t *testing.T) {
	store := audit.NewMemStore()
	l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	require.NoError(t, l.Record(ctx, audit.Event{Action: "http.request",
		Actor:    audit.Actor{ID: "u1", UserAgent: "dw1:curl/8.0"},
		Resource: audit.Resource{Type: "file", ID: "dw1:report.pdf"},
		Metadata: []audit.Attr{{Key: "note", Value: "dw1:hello"}}}))
	got, _, err := l.Query(ctx, audit.Query{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "dw1:curl/8.0", got[0].Actor.UserAgent)
	assert.Equal(t, "dw1:report.pdf", got[0].Resource.ID)
	assert.Equal(t, "dw1:hello", got[0].Metadata[0].Value)
	require.NoError(t, l.Close(ctx))
}
