package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

// TestBreachAppendKeepsTextOrRefuses: an incident whose text is not
// valid UTF-8 is either kept as given (as breach.MemStore keeps it) or
// refused with an error; it is never stored altered.
func TestBreachAppendKeepsTextOrRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.dsn(t)).BreachStore()
		inc := breach.Incident{ID: "inc-1", Version: 1, Updated: time.Unix(1700000000, 0).UTC(), Status: "open",
			Description: "leaked \xff\xfe bytes", Contact: breach.Contact{Name: "DPO \xc3"}}
		if err := s.Append(ctx, inc); err != nil {
			t.Logf("refused: %v", err)
			_, err := s.Versions(ctx, "inc-1")
			require.ErrorIs(t, err, breach.ErrNotFound, "a refused Append stores nothing")
			return
		}
		vs, err := s.Versions(ctx, "inc-1")
		require.NoError(t, err)
		require.Len(t, vs, 1)
		require.Equal(t, inc.Description, vs[0].Description, "Description stored altered")
		require.Equal(t, inc.Contact.Name, vs[0].Contact.Name, "Contact.Name stored altered")
	})
}
