package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/audit"
)

// A Query for an actor or subject that the database cannot hold as text
// (on PostgreSQL: invalid UTF-8, or a NUL byte; Append refuses such
// entries) matches no entry, as on audit.MemStore and SQLite, rather than
// failing with the database's encoding error.
func TestAuditStoreQueryTextNoEntryCanHold(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		s := open(t, be.dsn(t)).AuditStore()
		mem := audit.NewMemStore()
		appendBoth(t, newEntryGen(3), 20, s, mem)
		for _, f := range []audit.Filter{
			{ActorID: "al\x00ice"},
			{Subject: "h:\xff"},
			{ActorID: "alice", Subject: "h:s1\x00"},
			{ActorID: "al\x00ice", Action: "auth.login"},
		} {
			f.After, f.Limit = -1, 10
			want, err := mem.Query(ctx, f)
			require.NoError(t, err)
			got, err := s.Query(ctx, f)
			require.NoError(t, err, "ActorID %q, Subject %q", f.ActorID, f.Subject)
			require.Equal(t, len(want), len(got))
		}
	})
}
