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

// TestBreachFinishKeepsNextAtLikeMemStore: Finish to a final state keeps
// the delivery's NextAt, as breach.MemStore does (it sets NextAt only for
// a retry, state Pending).
func TestBreachFinishKeepsNextAtLikeMemStore(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run := func(t *testing.T, s breach.OutboxStore) []breach.Delivery {
		ctx := context.Background()
		d := breach.Delivery{Message: breach.Message{ID: "d1", Incident: "inc-1", Regime: "gdpr", Party: breach.Subjects, Phase: "initial",
			To: breach.Recipient{Channel: "email", Address: "dpa@example.org"}}, Key: "k1", State: breach.Pending, NextAt: base, Created: base}
		_, err := s.Enqueue(ctx, []breach.Delivery{d})
		require.NoError(t, err)
		got, err := s.Claim(ctx, "w", base, time.Minute, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		r := breach.Receipt{Delivery: "d1", Incident: "inc-1", Channel: "email", Attempt: 1, At: base, OK: true}
		require.NoError(t, s.Finish(ctx, "d1", "w", r, breach.Delivered, time.Time{}))
		ds, err := s.Deliveries(ctx, "inc-1")
		require.NoError(t, err)
		return ds
	}
	want := run(t, breach.NewMemStore())
	eachBackend(t, func(t *testing.T, b backend) {
		got := run(t, open(t, b.dsn(t)).BreachStore())
		require.Len(t, got, 1)
		require.True(t, want[0].NextAt.Equal(got[0].NextAt), "NextAt: MemStore %v, %s %v", want[0].NextAt, b.name, got[0].NextAt)
	})
}
