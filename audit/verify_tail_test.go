package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// headStore keeps the log's size apart from its entries, as sqlstore does
// (a head row): someone who deletes the last entries, and not the head,
// leaves a Size larger than the entries.
type headStore struct {
	*audit.MemStore
	size int64
}

func (s *headStore) Size(context.Context) (int64, error) { return s.size, nil }

// Verify reports entries missing at the end of the log as damage, rather
// than reading for ever from where they end.
func TestVerifyEntriesEndBeforeSize(t *testing.T) {
	mem := loginLog(t, 5)
	store := &headStore{MemStore: mem, size: 8} // entries 5, 6 and 7 are gone

	vctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := audit.Verify(vctx, store, nil)
	var de *audit.DamageError
	require.True(t, errors.As(err, &de), "Verify = %v, want a *DamageError", err)
	assert.EqualValues(t, 5, de.Index)
}
