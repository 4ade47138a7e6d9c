package rbac_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/rbac"
)

// An Authorizer is what pii asks whether a field may be shown in clear.
var _ pii.Revealer = (*rbac.Authorizer)(nil)

// TestRevealWithPII: pii.Show masks what the actor may not see, as the
// Authorizer decides: a support agent sees masked contact details, a
// manager sees them in clear, an auditor is denied them outright.
func TestRevealWithPII(t *testing.T) {
	a := newCRM(t, nil)
	show := func(actor dataward.Actor, category string, kind pii.MaskKind, value string) string {
		ctx := dataward.WithActor(context.Background(), actor)
		return pii.Show(ctx, a, category, kind, value)
	}
	const email, phone = "jane.doe@example.com", "+27 82 555 0123"
	tests := []struct {
		actor        dataward.Actor
		email, phone string
	}{
		{user("acme", "ann"), pii.MaskEmail(email), pii.MaskPhone(phone)},
		{user("acme", "max"), email, phone},
		{user("acme", "aud"), pii.MaskEmail(email), pii.MaskPhone(phone)},
		{dataward.Actor{}, pii.MaskEmail(email), pii.MaskPhone(phone)},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.email, show(tc.actor, "contact.email", pii.MaskKindEmail, email), tc.actor.ID)
		assert.Equal(t, tc.phone, show(tc.actor, "contact.phone", pii.MaskKindPhone, phone), tc.actor.ID)
	}
	assert.NotEqual(t, email, pii.MaskEmail(email))
	assert.Equal(t, pii.MaskEmail(email), pii.Show(context.Background(), nil, "contact.email", pii.MaskKindEmail, email))
}
