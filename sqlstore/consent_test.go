package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/internal/pgtest"
	"github.com/dataward/dataward/sqlstore"
)

// consentRec returns a record of subject in tenant with every field set.
func consentRec(tenant, subject string, n int) consent.Record {
	at := t0.Add(time.Duration(n) * time.Second)
	return consent.Record{
		ID:           fmt.Sprintf("0190a1b2-c3d4-7e5f-8a9b-%012d", n),
		Tenant:       tenant,
		Subject:      dataward.SubjectID(subject),
		Purpose:      "marketing.email",
		Kind:         consent.Given,
		Method:       consent.MethodForm,
		Notice:       consent.NoticeRef{ID: "privacy", Version: 3, Language: "en-ZA", SHA256: strings.Repeat("ab", 32)},
		ActorID:      "actor-" + subject,
		ActorKind:    dataward.ActorSubject,
		Evidence:     consent.Evidence{IP: "hk1:ip:0011", UserAgent: "hk1:ua:2233"},
		Jurisdiction: "ZA",
		Time:         at,
		Expires:      at.AddDate(1, 0, 0),
		Note:         fmt.Sprint("record ", n),
	}
}

// TestConsentStoreTimes checks that times are kept to the microsecond and
// read back in UTC, before the Unix epoch too, and that a zero Expires and
// an empty Ref are stored as NULL and read back as zero.
func TestConsentStoreTimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := open(t, b.dsn(t))
		s := db.ConsentStore()
		ctx := context.Background()
		local := time.FixedZone("SAST", 2*60*60)

		rec := consentRec("t", "alice", 1)
		rec.Time = time.Date(2026, 1, 2, 3, 4, 5, 987654321, local)
		rec.Expires = time.Date(1969, 7, 20, 20, 17, 40, 999999999, local) // before the Unix epoch
		rec.Ref = "ref-1"
		_, err := s.Append(ctx, rec)
		require.NoError(t, err)

		bare := consentRec("t", "alice", 2)
		bare.Expires = time.Time{}
		bare.Ref = ""
		_, err = s.Append(ctx, bare)
		require.NoError(t, err)

		got, err := s.History(ctx, "t", "alice")
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, rec.Time.Truncate(time.Microsecond).UTC(), got[0].Time)
		require.Equal(t, time.UTC, got[0].Time.Location())
		require.Equal(t, rec.Expires.Truncate(time.Microsecond).UTC(), got[0].Expires)
		require.Equal(t, "ref-1", got[0].Ref)
		require.True(t, got[1].Expires.IsZero())
		require.Equal(t, time.Time{}, got[1].Expires)
		require.Equal(t, "", got[1].Ref)

		var nullExpires, nullRef int
		require.NoError(t, db.SQL().QueryRow(
			"SELECT count(*) FROM dataward_consent_records WHERE expires IS NULL").Scan(&nullExpires))
		require.NoError(t, db.SQL().QueryRow(
			"SELECT count(*) FROM dataward_consent_records WHERE ref IS NULL").Scan(&nullRef))
		require.Equal(t, 1, nullExpires)
		require.Equal(t, 1, nullRef)
	})
}

// TestConsentStoreErrorsHoldNoPersonalData checks that errors name the
// field or the condition, never a subject or evidence.
func TestConsentStoreErrorsHoldNoPersonalData(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := open(t, b.dsn(t)).ConsentStore()
		ctx := context.Background()
		rec := consentRec("t", "alice@example.com", 1)
		rec.Ref = "r"
		seq, err := s.Append(ctx, rec)
		require.NoError(t, err)
		require.Equal(t, int64(1), seq)

		_, err = s.Append(ctx, rec)
		require.ErrorIs(t, err, consent.ErrDuplicateRef)
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "sqlstore: "), msg)
		for _, secret := range []string{"alice", rec.Evidence.IP, rec.Evidence.UserAgent} {
			require.NotContains(t, msg, secret)
		}
		head, err := s.Head(ctx, "t")
		require.NoError(t, err)
		require.Equal(t, int64(1), head, "a refused duplicate takes no Seq")

		if b.name == "Postgres" {
			bad := consentRec("t", "bob", 2)
			bad.Evidence.UserAgent = "ua\xff\x00secret"
			_, err := s.Append(ctx, bad)
			require.Error(t, err)
			require.Contains(t, err.Error(), "Evidence.UserAgent")
			require.NotContains(t, err.Error(), "secret")
			require.NotContains(t, err.Error(), "bob")
			head, err := s.Head(ctx, "t")
			require.NoError(t, err)
			require.Equal(t, int64(1), head, "nothing stored")
		}
	})
}

// TestConsentWatchOtherPool checks that Watch sees appends made through
// another pool on the same database, as those of another process would
// be, and only after they are visible to Since.
func TestConsentWatchOtherPool(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		watcher, writer := open(t, dsn).ConsentStore(), open(t, dsn).ConsentStore()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		changed := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() { done <- watcher.Watch(ctx, "t", changed) }()
		waitSignal(t, changed, "ready")

		for i := 1; i <= 3; i++ {
			seq, err := writer.Append(ctx, consentRec("t", "alice", i))
			require.NoError(t, err)
			waitSeen(t, watcher, changed, "t", seq)
		}
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// waitSignal waits up to 10 s for a send on c.
func waitSignal(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("Watch did not signal (%s) within 10 s", what)
	}
}

// waitSeen waits, for up to 10 s, for signals on c until the record seq of
// tenant is visible to Since.
func waitSeen(t *testing.T, s *sqlstore.ConsentStore, c <-chan struct{}, tenant string, seq int64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-c:
		case <-deadline:
			t.Fatalf("Watch did not signal record %d within 10 s", seq)
		}
		recs, err := s.Since(context.Background(), tenant, seq-1, 1)
		require.NoError(t, err)
		if len(recs) == 1 {
			require.Equal(t, seq, recs[0].Seq)
			return
		}
	}
}

// TestConsentWatchReleasesConnection checks that Watch gives back (or
// closes) the connection it holds when its context ends.
func TestConsentWatchReleasesConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := open(t, b.dsn(t))
		ctx, cancel := context.WithCancel(context.Background())
		changed := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() { done <- db.ConsentStore().Watch(ctx, "t", changed) }()
		waitSignal(t, changed, "ready")
		require.Equal(t, 1, db.SQL().Stats().InUse, "Watch holds a connection")
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.Equal(t, 0, db.SQL().Stats().InUse, "Watch released its connection")
	})
}

// TestConsentWatchSharesOneConnection checks that the watchers of a
// store share one connection whatever their tenants, that each is told of
// its own tenant's records, and that one leaving does not stop the others.
func TestConsentWatchSharesOneConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		db := open(t, dsn)
		writer := open(t, dsn).ConsentStore()
		s := db.ConsentStore()
		type watch struct {
			tenant  string
			cancel  context.CancelFunc
			changed chan struct{}
			done    chan error
		}
		var watches []*watch
		for _, tenant := range []string{"a", "b", "a"} {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &watch{tenant, cancel, make(chan struct{}, 1), make(chan error, 1)}
			go func() { w.done <- s.Watch(ctx, tenant, w.changed) }()
			waitSignal(t, w.changed, "ready")
			watches = append(watches, w)
		}
		require.Equal(t, 1, db.SQL().Stats().InUse, "one connection for every watcher")

		seq, err := writer.Append(context.Background(), consentRec("b", "bob", 1))
		require.NoError(t, err)
		waitSeen(t, s, watches[1].changed, "b", seq)

		watches[0].cancel()
		require.ErrorIs(t, <-watches[0].done, context.Canceled)
		seq, err = writer.Append(context.Background(), consentRec("a", "alice", 1))
		require.NoError(t, err)
		waitSeen(t, s, watches[2].changed, "a", seq)
		require.Empty(t, watches[1].changed, "b was not told of a's record")

		watches[1].cancel()
		watches[2].cancel()
		require.ErrorIs(t, <-watches[1].done, context.Canceled)
		require.ErrorIs(t, <-watches[2].done, context.Canceled)
		require.Equal(t, 0, db.SQL().Stats().InUse, "the last watcher released the connection")
	})
}

// TestConsentWatchCanceledBeforeStart checks that Watch with a context
// already done returns its error at once, without signalling.
func TestConsentWatchCanceledBeforeStart(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := open(t, b.dsn(t)).ConsentStore()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		changed := make(chan struct{}, 1)
		require.ErrorIs(t, s.Watch(ctx, "t", changed), context.Canceled)
		require.Empty(t, changed)
	})
}

// TestConsentWatchLostConnection checks that Watch on PostgreSQL ends with
// an error, not silence, when the server drops its connection.
func TestConsentWatchLostConnection(t *testing.T) {
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	app := "dataward_watch_" + hex.EncodeToString(tag[:])
	dsn := pgtest.DSN(t) + "&application_name=" + app
	db := open(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- db.ConsentStore().Watch(ctx, "t", changed) }()
	waitSignal(t, changed, "ready")

	var killed int
	require.NoError(t, db.SQL().QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"+
		" WHERE application_name = $1 AND query LIKE 'LISTEN%'", app).Scan(&killed))
	require.Equal(t, 1, killed)
	select {
	case err := <-done:
		require.Error(t, err)
		require.NotErrorIs(t, err, context.Canceled)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: watch consent records: "), err.Error())
	case <-time.After(10 * time.Second):
		t.Fatal("Watch went on after its connection was closed")
	}
}
