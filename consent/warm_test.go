package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
)

// headHook runs hook once, after reading the head, as if a choice were
// recorded just then.
type headHook struct {
	consent.Store
	hook func()
}

func (s *headHook) Head(ctx context.Context, tenant string) (int64, error) {
	h, err := s.Store.Head(ctx, tenant)
	if s.hook != nil {
		hook := s.hook
		s.hook = nil
		hook()
	}
	return h, err
}

// TestWarmDoesNotHideAChoiceMadeMeanwhile: "a change made through the
// Ledger is visible at once", even when it is made while Warm reads the
// ledger: Warm must not cache, over it, the states it read before.
func TestWarmDoesNotHideAChoiceMadeMeanwhile(t *testing.T) {
	ctx := context.Background()
	store := &headHook{Store: storeOnly{consent.NewMemStore()}}
	l, err := consent.New(store, &consent.Options{MaxStale: time.Hour})
	require.NoError(t, err)
	require.NoError(t, l.Register(purposes()...))
	_, err = l.Refuse(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)

	store.hook = func() {
		_, err := l.Give(ctx, give(consent.Choice{Subject: "u1"}))
		require.NoError(t, err)
	}
	require.NoError(t, l.Warm(ctx))
	d := allowed(t, l, "u1", email)
	assert.True(t, d.Allowed, "the consent given during Warm is hidden: %+v", d)
}
