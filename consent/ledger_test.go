package consent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
	"github.com/dataward/dataward/consent"
)

const (
	email     = "marketing.communications.email"
	notify    = "essential.service.notifications.email"
	analytics = "analytics.reporting"
	ads       = "marketing.advertising.third_party.targeted"
)

var (
	noticeV1 = consent.NewNotice("newsletter", 1, "en", "Send me the weekly newsletter.", false)
	noticeV2 = consent.NewNotice("newsletter", 2, "en", "Send me the weekly newsletter and offers.", true)
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func purposes() []consent.Purpose {
	return []consent.Purpose{
		{Key: email, Description: "Weekly newsletter", Basis: consent.BasisConsent, Mechanism: consent.OptIn,
			Channels: []consent.Channel{consent.ChannelEmail}, Validity: 365 * 24 * time.Hour, Notices: []consent.Notice{noticeV1}},
		{Key: notify, Description: "Service notices", Basis: consent.BasisContract, Mechanism: consent.NoticeOnly},
		{Key: analytics, Description: "Product analytics", Basis: consent.BasisLegitimateInterests, Mechanism: consent.OptOut},
		{Key: ads, Description: "Targeted ads", Basis: consent.BasisLegitimateInterests, Mechanism: consent.OptOut, GPC: true},
	}
}

type fixture struct {
	l     *consent.Ledger
	store *consent.MemStore
	clock *fakeClock
}

func newLedger(t *testing.T, opts *consent.Options) fixture {
	t.Helper()
	f := fixture{store: consent.NewMemStore(), clock: newClock()}
	var o consent.Options
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = f.clock
	}
	if o.HashKey == nil {
		o.HashKey = []byte("0123456789abcdef0123456789abcdef")
	}
	if o.TokenKey == nil {
		o.TokenKey = []byte("token-key-token-key-token-key-32b")
	}
	l, err := consent.New(f.store, &o)
	require.NoError(t, err)
	require.NoError(t, l.Register(purposes()...))
	f.l = l
	return f
}

func give(c consent.Choice) consent.Choice {
	if c.Purpose == "" {
		c.Purpose = email
	}
	if c.Notice.IsZero() && c.Purpose == email {
		c.Notice = noticeV1.Ref()
	}
	return c
}

func allowed(t *testing.T, l *consent.Ledger, s dataward.SubjectID, p string) consent.Decision {
	t.Helper()
	d, err := l.Allowed(context.Background(), s, p)
	require.NoError(t, err)
	return d
}

func TestDefaultsByMechanism(t *testing.T) {
	f := newLedger(t, nil)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonNoRecord}, allowed(t, f.l, "u1", email))
	assert.Equal(t, consent.Decision{Allowed: true, Reason: consent.ReasonNoticeOnly}, allowed(t, f.l, "u1", notify))
	assert.Equal(t, consent.Decision{Allowed: true, Reason: consent.ReasonOptOutDefault}, allowed(t, f.l, "u1", analytics))
}

func TestGiveWithdrawRefuseObject(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	rec, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1", Jurisdiction: "ZA"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Given, rec.Kind)
	assert.Equal(t, int64(1), rec.Seq)
	assert.Equal(t, noticeV1.Ref(), rec.Notice)
	assert.Equal(t, f.clock.Now().Add(365*24*time.Hour), rec.Expires)
	d := allowed(t, f.l, "u1", email)
	assert.True(t, d.Allowed)
	assert.Equal(t, consent.ReasonGiven, d.Reason)
	assert.Equal(t, rec.Expires, d.Expires)

	w, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonWithdrawn, Seq: w.Seq}, allowed(t, f.l, "u1", email))

	r, err := f.l.Refuse(ctx, give(consent.Choice{Subject: "u2"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonRefused, Seq: r.Seq}, allowed(t, f.l, "u2", email))

	o, err := f.l.Object(ctx, consent.Choice{Subject: "u2", Purpose: analytics})
	require.NoError(t, err)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonObjected, Seq: o.Seq}, allowed(t, f.l, "u2", analytics))

	// Giving again after a withdrawal is a new consent; giving while
	// consent stands renews it.
	g2, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Given, g2.Kind)
	g3, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Renewed, g3.Kind)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)
}

func TestExpiryAndRenewal(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	g, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	f.clock.Add(365*24*time.Hour - time.Second)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)
	f.clock.Add(time.Second)
	assert.Equal(t, consent.Decision{Reason: consent.ReasonExpired, Seq: g.Seq}, allowed(t, f.l, "u1", email))
	r, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.Equal(t, consent.Renewed, r.Kind)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)
}

func TestMaterialNoticeChangeNeedsReconsent(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	p, _ := f.l.Purpose(email)
	p.Notices = append(p.Notices, noticeV2)
	require.NoError(t, f.l.Register(p))
	d := allowed(t, f.l, "u1", email)
	assert.False(t, d.Allowed)
	assert.Equal(t, consent.ReasonNoticeOutdated, d.Reason)
	_, err = f.l.Give(ctx, consent.Choice{Subject: "u1", Purpose: email, Notice: noticeV2.Ref()})
	require.NoError(t, err)
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)

	// A change that is not material keeps consent.
	p.Notices = append(p.Notices, consent.NewNotice("newsletter", 3, "en", "typo fixed", false))
	require.NoError(t, f.l.Register(p))
	assert.True(t, allowed(t, f.l, "u1", email).Allowed)
}

func TestBadInputRecordsNothing(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	cases := map[string]struct {
		c    consent.Choice
		want error
		msg  string
	}{
		"unknown purpose":    {consent.Choice{Subject: "u1", Purpose: "marketing.unknown"}, consent.ErrUnknownPurpose, "unknown purpose"},
		"no notice":          {consent.Choice{Subject: "u1", Purpose: email}, dataward.ErrInvalid, "Choice.Notice is required"},
		"unregistered note":  {consent.Choice{Subject: "u1", Purpose: email, Notice: noticeV2.Ref()}, dataward.ErrInvalid, "not a notice registered"},
		"forged notice hash": {consent.Choice{Subject: "u1", Purpose: email, Notice: consent.NoticeRef{ID: "newsletter", Version: 1, Language: "en", SHA256: strings.Repeat("0", 64)}}, dataward.ErrInvalid, "not a notice registered"},
		"empty subject":      {give(consent.Choice{}), dataward.ErrInvalid, "Choice.Subject"},
		"control subject":    {give(consent.Choice{Subject: "a\nb"}), dataward.ErrInvalid, "Choice.Subject"},
		"bad method":         {give(consent.Choice{Subject: "u1", Method: "telepathy"}), dataward.ErrInvalid, "Choice.Method"},
		"bad jurisdiction":   {give(consent.Choice{Subject: "u1", Jurisdiction: "South Africa"}), dataward.ErrInvalid, "Choice.Jurisdiction"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.l.Give(ctx, tc.c)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	head, err := f.store.Head(ctx, "")
	require.NoError(t, err)
	assert.Zero(t, head, "nothing recorded")

	// Evidence with neither a sealer nor a hash key is refused.
	l, err := consent.New(consent.NewMemStore(), &consent.Options{})
	require.NoError(t, err)
	require.NoError(t, l.Register(purposes()...))
	_, err = l.Give(ctx, give(consent.Choice{Subject: "u1", Evidence: consent.Evidence{IP: "192.0.2.1"}}))
	require.ErrorIs(t, err, dataward.ErrInvalid)
	assert.Contains(t, err.Error(), "Options.Sealer or Options.HashKey")
}

func TestRegisterValidates(t *testing.T) {
	l, err := consent.New(consent.NewMemStore(), nil)
	require.NoError(t, err)
	err = l.Register(
		consent.Purpose{Key: email, Basis: consent.BasisConsent, Mechanism: consent.OptOut},
		consent.Purpose{Key: "not.a.use", Basis: "whim", Mechanism: consent.NoticeOnly, Validity: -1},
	)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	for _, want := range []string{
		"purposes[0].Mechanism must be opt_in when the basis is consent",
		"purposes[1].Key must be a fideslang data use",
		"purposes[1].Basis must be one of",
		"purposes[1].Validity must be at least 0",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, l.Purposes(), "nothing registered")
	err = l.Register(consent.Purpose{Key: email, Basis: consent.BasisConsent, Mechanism: consent.OptIn})
	assert.ErrorContains(t, err, "purposes[0].Notices must list the notice")
	// An extension of a fideslang data use is accepted.
	require.NoError(t, l.Register(consent.Purpose{Key: email + ".weekly_digest", Basis: consent.BasisContract, Mechanism: consent.NoticeOnly}))
}

func TestNewValidatesOptions(t *testing.T) {
	_, err := consent.New(nil, nil)
	require.ErrorIs(t, err, dataward.ErrInvalid)
	_, err = consent.New(consent.NewMemStore(), &consent.Options{HashKey: []byte("short"), TokenKey: []byte("short"), CacheSize: -1})
	require.ErrorIs(t, err, dataward.ErrInvalid)
	for _, want := range []string{"Options.HashKey", "Options.TokenKey", "Options.CacheSize"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestWithdrawingWhatWasNeverGivenIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	w1, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	w2, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	assert.Equal(t, w1, w2, "the second withdrawal returns the first")
	h, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, h, 1)
}

func TestWithdrawAll(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	recs, err := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u1", Method: consent.MethodUnsubscribe})
	require.NoError(t, err)
	var got []string
	for _, r := range recs {
		assert.Equal(t, consent.Withdrawn, r.Kind)
		got = append(got, r.Purpose)
	}
	assert.Equal(t, []string{email, analytics, ads}, got, "every purpose but the notice-only one")
	for _, p := range []string{email, analytics, ads} {
		assert.False(t, allowed(t, f.l, "u1", p).Allowed, p)
	}
	assert.True(t, allowed(t, f.l, "u1", notify).Allowed)
	again, err := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u1"})
	require.NoError(t, err)
	assert.Empty(t, again)
}

func TestEvidenceIsNeverKeptInClear(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	ev := consent.Evidence{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (Secret Browser)"}
	rec, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1", Evidence: ev}))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rec.Evidence.IP, "h1:"))
	assert.True(t, strings.HasPrefix(rec.Evidence.UserAgent, "h1:"))
	// The same value hashes the same way, so evidence can be matched.
	rec2, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email, Evidence: ev})
	require.NoError(t, err)
	assert.Equal(t, rec.Evidence, rec2.Evidence)
	for _, s := range []string{fmt.Sprint(ev), fmt.Sprintf("%+v %#v %v", ev, ev, rec), fmt.Sprintf("%v", consent.Choice{Evidence: ev})} {
		assert.NotContains(t, s, "198.51.100.7")
		assert.NotContains(t, s, "Secret Browser")
	}
}

func TestIdempotencyRef(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1", Ref: "form-42"}))
	require.NoError(t, err)
	_, err = f.l.Give(ctx, give(consent.Choice{Subject: "u1", Ref: "form-42"}))
	require.ErrorIs(t, err, consent.ErrDuplicateRef)
	h, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, h, 1)
}

func TestTenantsAreIsolated(t *testing.T) {
	ctx := context.Background()
	store := consent.NewMemStore()
	a, err := consent.New(store, &consent.Options{Tenant: "a"})
	require.NoError(t, err)
	b, err := consent.New(store, &consent.Options{Tenant: "b"})
	require.NoError(t, err)
	require.NoError(t, a.Register(purposes()...))
	require.NoError(t, b.Register(purposes()...))
	_, err = a.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.True(t, allowed(t, a, "u1", email).Allowed)
	assert.False(t, allowed(t, b, "u1", email).Allowed)
	h, err := b.History(ctx, "u1")
	require.NoError(t, err)
	assert.Empty(t, h)
}

func TestChecksAreNeverStaleAcrossLedgers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := consent.NewMemStore()
	writer, err := consent.New(store, nil)
	require.NoError(t, err)
	reader, err := consent.New(store, &consent.Options{MaxStale: time.Hour})
	require.NoError(t, err)
	for _, l := range []*consent.Ledger{writer, reader} {
		require.NoError(t, l.Register(purposes()...))
	}
	done := make(chan error, 1)
	go func() { done <- reader.Run(ctx) }()
	require.Eventually(t, reader.Following, 10*time.Second, time.Millisecond)

	_, err = writer.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return allowed(t, reader, "u1", email).Allowed }, 10*time.Second, time.Millisecond)
	// The reader has the state cached now; a withdrawal elsewhere reaches it.
	_, err = writer.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !allowed(t, reader, "u1", email).Allowed }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.False(t, reader.Following())
}

// storeOnly hides MemStore's Watcher, to test polling and MaxStale.
type storeOnly struct{ consent.Store }

func TestWithoutRunCachedStatesLastMaxStale(t *testing.T) {
	ctx := context.Background()
	store := consent.NewMemStore()
	writer, err := consent.New(store, nil)
	require.NoError(t, err)
	reader, err := consent.New(storeOnly{store}, &consent.Options{MaxStale: 20 * time.Millisecond})
	require.NoError(t, err)
	for _, l := range []*consent.Ledger{writer, reader} {
		require.NoError(t, l.Register(purposes()...))
	}
	_, err = writer.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.True(t, allowed(t, reader, "u1", email).Allowed)
	_, err = writer.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !allowed(t, reader, "u1", email).Allowed }, 10*time.Second, time.Millisecond)

	// With polling (a Store that is not a Watcher), Run follows too.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = reader.Run(rctx) }()
	require.Eventually(t, reader.Following, 10*time.Second, time.Millisecond)
	_, err = writer.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return allowed(t, reader, "u1", email).Allowed }, 10*time.Second, time.Millisecond)
}

// failingStore fails every call.
type failingStore struct{ *consent.MemStore }

func (failingStore) Append(context.Context, consent.Record) (int64, error) {
	return 0, errors.New("disk full")
}
func (failingStore) History(context.Context, string, dataward.SubjectID) ([]consent.Record, error) {
	return nil, errors.New("disk full")
}

func TestStoreErrorsAreReported(t *testing.T) {
	ctx := context.Background()
	l, err := consent.New(failingStore{consent.NewMemStore()}, nil)
	require.NoError(t, err)
	require.NoError(t, l.Register(purposes()...))
	_, err = l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.ErrorContains(t, err, "disk full")
	_, err = l.Allowed(ctx, "u1", email)
	require.ErrorContains(t, err, "consent: reading history: disk full")
	_, err = l.Allowed(ctx, "u1", "marketing.nope")
	require.ErrorIs(t, err, consent.ErrUnknownPurpose)
}

func TestConcurrentChoicesAndChecks(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				s := dataward.SubjectID(fmt.Sprintf("u%d", i%10))
				if (g+i)%2 == 0 {
					_, err := f.l.Give(ctx, give(consent.Choice{Subject: s}))
					assert.NoError(t, err)
				} else {
					_, err := f.l.Withdraw(ctx, consent.Choice{Subject: s, Purpose: email})
					assert.NoError(t, err)
				}
				_, err := f.l.Allowed(ctx, s, email)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	// Each subject's cached state matches its history.
	fresh, err := consent.New(f.store, nil)
	require.NoError(t, err)
	require.NoError(t, fresh.Register(purposes()...))
	for i := range 10 {
		s := dataward.SubjectID(fmt.Sprintf("u%d", i))
		assert.Equal(t, allowed(t, fresh, s, email), allowed(t, f.l, s, email), s)
	}
}

func TestAuditFailureKeepsTheRecord(t *testing.T) {
	ctx := context.Background()
	alog, err := audit.New(audit.NewMemStore(), &audit.Options{HashKey: make([]byte, 32)})
	require.NoError(t, err)
	require.NoError(t, alog.Close(ctx)) // every Record now fails with ErrClosed
	f := newLedger(t, &consent.Options{Audit: alog})
	rec, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.ErrorIs(t, err, audit.ErrClosed)
	assert.Contains(t, err.Error(), "is stored, but its audit event failed")
	assert.Equal(t, int64(1), rec.Seq, "the person's choice is never lost to an audit failure")
	assert.Equal(t, consent.ReasonWithdrawn, allowed(t, f.l, "u1", email).Reason)
}

// brokenWatcher is a Store whose Watch always fails.
type brokenWatcher struct{ *consent.MemStore }

func (brokenWatcher) Watch(context.Context, string, chan<- struct{}) error {
	return errors.New("connection refused")
}

func TestRunReportsALostWatchAndChecksReadTheStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := consent.NewMemStore()
	errs := make(chan error, 10)
	reader, err := consent.New(brokenWatcher{store}, &consent.Options{MaxStale: -1, OnError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	require.NoError(t, err)
	require.NoError(t, reader.Register(purposes()...))
	done := make(chan error, 1)
	go func() { done <- reader.Run(ctx) }()
	select {
	case err := <-errs:
		require.ErrorContains(t, err, "connection refused")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not report the failed watch")
	}
	assert.False(t, reader.Following())

	// Not following, with MaxStale < 0: every check reads the store.
	writer, err := consent.New(store, nil)
	require.NoError(t, err)
	require.NoError(t, writer.Register(purposes()...))
	assert.False(t, allowed(t, reader, "u1", email).Allowed)
	_, err = writer.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	assert.True(t, allowed(t, reader, "u1", email).Allowed, "seen at once, not from a stale cache")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

// With a cache far smaller than the subjects, states are evicted and read
// again from the store: every answer stays right.
func TestSmallCacheEvictsAndStaysRight(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, &consent.Options{CacheSize: 256}) // one subject per shard
	const n = 2000
	subject := func(i int) dataward.SubjectID { return dataward.SubjectID(fmt.Sprintf("u%d", i)) }
	for i := range n {
		c := give(consent.Choice{Subject: subject(i)})
		if i%2 == 0 {
			_, err := f.l.Give(ctx, c)
			require.NoError(t, err)
		} else {
			_, err := f.l.Object(ctx, consent.Choice{Subject: subject(i), Purpose: analytics})
			require.NoError(t, err)
		}
	}
	for round := range 2 {
		for i := range n {
			d := allowed(t, f.l, subject(i), email)
			a := allowed(t, f.l, subject(i), analytics)
			if i%2 == 0 {
				require.True(t, d.Allowed, "round %d subject %d", round, i)
				require.Equal(t, consent.ReasonOptOutDefault, a.Reason)
			} else {
				require.Equal(t, consent.ReasonNoRecord, d.Reason, "round %d subject %d", round, i)
				require.Equal(t, consent.ReasonObjected, a.Reason)
			}
		}
	}
}

// A purpose registered after a subject's states were cached is answered
// from the subject's records, not as if it had none.
func TestPurposeRegisteredAfterCaching(t *testing.T) {
	ctx := context.Background()
	store := consent.NewMemStore()
	writer, err := consent.New(store, nil)
	require.NoError(t, err)
	sms := consent.Purpose{Key: "marketing.communications.sms", Basis: consent.BasisConsent, Mechanism: consent.OptIn,
		Notices: []consent.Notice{consent.NewNotice("sms", 1, "en", "Text me offers.", false)}}
	require.NoError(t, writer.Register(append(purposes(), sms)...))
	_, err = writer.Give(ctx, consent.Choice{Subject: "u1", Purpose: sms.Key, Notice: sms.Notices[0].Ref()})
	require.NoError(t, err)

	reader, err := consent.New(store, &consent.Options{MaxStale: time.Hour})
	require.NoError(t, err)
	require.NoError(t, reader.Register(purposes()...))
	assert.Equal(t, consent.ReasonNoRecord, allowed(t, reader, "u1", email).Reason) // u1 cached without sms
	require.NoError(t, reader.Register(sms))
	assert.Equal(t, consent.ReasonGiven, allowed(t, reader, "u1", sms.Key).Reason)
}

// TestWithdrawIsNotLostToAStaleCache: a withdrawal decides whether it is
// a repeat from the Store, not from a cached state that another process
// has since changed, so that it is never silently dropped.
func TestWithdrawIsNotLostToAStaleCache(t *testing.T) {
	ctx := context.Background()
	store := consent.NewMemStore()
	opts := &consent.Options{TokenKey: []byte("token-key-token-key-token-key-32b")}
	a, err := consent.New(storeOnly{store}, opts) // not following: MaxStale 1s
	require.NoError(t, err)
	b, err := consent.New(storeOnly{store}, opts)
	require.NoError(t, err)
	for _, l := range []*consent.Ledger{a, b} {
		require.NoError(t, l.Register(purposes()...))
	}
	// a withdraws (and caches "withdrawn"); b, another process, records
	// consent; the person then withdraws again through a.
	_, err = a.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)
	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	_, err = a.Withdraw(ctx, consent.Choice{Subject: "u1", Purpose: email})
	require.NoError(t, err)

	hist, err := b.History(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, consent.Withdrawn, hist[len(hist)-1].Kind, "the second withdrawal was dropped: the consent given in between stands")

	// The same through an unsubscribe link and "unsubscribe from everything".
	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	tok, err := a.UnsubscribeToken("u1", email)
	require.NoError(t, err)
	recs, err := a.Unsubscribe(ctx, tok, consent.Evidence{})
	require.NoError(t, err)
	require.Len(t, recs, 1, "the unsubscribe link recorded nothing")

	_, err = b.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	recs, err = a.WithdrawAll(ctx, consent.Choice{Subject: "u1"})
	require.NoError(t, err)
	found := false
	for _, r := range recs {
		found = found || r.Purpose == email
	}
	require.True(t, found, "WithdrawAll left the consent given elsewhere standing")
}

// TestLongValidityIsNotExpiredAtOnce: Register accepts any positive
// Validity; one that ends after 2262, beyond what an int64 of Unix
// nanoseconds holds, must not wrap around and read as expired as soon as
// consent is given.
func TestLongValidityIsNotExpiredAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	p := purposes()[0]
	p.Validity = 250 * 365 * 24 * time.Hour
	require.NoError(t, f.l.Register(p))
	rec, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)
	require.Equal(t, 2276, rec.Expires.Year())
	d := allowed(t, f.l, "u1", email)
	assert.True(t, d.Allowed, "%+v", d)
	assert.Equal(t, consent.ReasonGiven, d.Reason)
}

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

// TestWithdrawAllBadInputChangesNothing: WithdrawAll checks its Choice for
// every purpose before it records anything, so that bad input gets an
// error and leaves the ledger as it was.
func TestWithdrawAllBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newLedger(t, nil)
	_, err := f.l.Give(ctx, give(consent.Choice{Subject: "u1"}))
	require.NoError(t, err)

	// The Ref gets "/" and each purpose's key appended: 220 bytes fit the
	// 255 with the keys of email and analytics, not with that of ads.
	ref := strings.Repeat("r", 220)
	recs, err := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u1", Ref: ref})
	var ve *dataward.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Empty(t, recs)
	hist, err := f.l.History(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "WithdrawAll refused the input but withdrew some purposes")

	// Bad input is an error even when there is nothing to withdraw.
	_, err = f.l.WithdrawAll(ctx, consent.Choice{Subject: "u9", Method: "carrier-pigeon"})
	_, err2 := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u9", Jurisdiction: "not a code"})
	for _, p := range []string{email, analytics, ads} {
		_, err := f.l.Withdraw(ctx, consent.Choice{Subject: "u8", Purpose: p})
		require.NoError(t, err)
	}
	_, err3 := f.l.WithdrawAll(ctx, consent.Choice{Subject: "u8", Method: "carrier-pigeon"})
	assert.ErrorAs(t, err, &ve)
	assert.ErrorAs(t, err2, &ve)
	assert.ErrorAs(t, err3, &ve, "bad input with nothing to withdraw is accepted silently")
}
