// Package consenttest checks that a [consent.Store] implementation, and its
// [consent.Watcher] if it has one, keep the contract that the
// [consent.Ledger] relies on. A host that writes its own store runs the
// whole suite from one test:
//
//	func TestConsentStoreConformance(t *testing.T) {
//		consenttest.Run(t, func(t *testing.T) consent.Store {
//			return newMyStore(t) // a fresh, empty store
//		})
//	}
//
// The suite uses only the standard library. Each case runs as a subtest with
// a stable name, on a fresh store made by newStore. The Watch cases run
// when the store implements [consent.Watcher] and are skipped otherwise.
package consenttest

//lint:file-ignore ST1005 the errors are test failure reports, which begin with the name of the method that failed.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/internal/conformance"
)

// A test case: the contract clause it checks, and the check.
type testCase = conformance.Case[consent.Store]

// Run runs every case of the suite against stores made by newStore, which
// must return a new, empty store each time it is called (use t.Cleanup to
// release it):
//
//	consenttest.Run(t, func(t *testing.T) consent.Store { return consent.NewMemStore() })
//
// If the stores implement [consent.Watcher], the Watch cases check it too;
// otherwise they are skipped.
func Run(t *testing.T, newStore func(t *testing.T) consent.Store) {
	t.Helper()
	conformance.Run(t, cases, newStore)
	conformance.Run(t, watchCases, func(t *testing.T) consent.Store {
		s := newStore(t)
		if _, ok := s.(consent.Watcher); !ok {
			t.Skipf("%T does not implement consent.Watcher: the Watch cases run only for stores that do (MemStore and sqlstore.ConsentStore do)", s)
		}
		return s
	})
}

// base is a fixed instant with microsecond precision, the precision the
// contract asks stores to keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

var (
	kinds = []consent.Kind{
		consent.Given, consent.Renewed, consent.Refused, consent.Withdrawn,
		consent.Objected, consent.Expired, consent.Requested, consent.Signal,
	}
	methods = []consent.Method{
		consent.MethodForm, consent.MethodAPI, consent.MethodImport, consent.MethodDoubleOptIn,
		consent.MethodGPC, consent.MethodUnsubscribe, consent.MethodSystem,
	}
	actorKinds = []dataward.ActorKind{dataward.ActorSubject, dataward.ActorUser, dataward.ActorService, dataward.ActorSystem}
)

// recordID returns a UUIDv7 made from the record's tenant, subject and
// number, so that every record of the suite has its own ID and a store may
// keep IDs in a UUID column, or make them a key.
func recordID(tenant, subject string, n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%q %q %d", tenant, subject, n))
	var u [16]byte
	ms := uint64(base.UnixMilli()) + uint64(n)
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	copy(u[6:], h[:10])
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	x := hex.EncodeToString(u[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// record returns the test record number n of subject in tenant, with every
// field set, as a Ledger would store it. Its Kind, Method and ActorKind go
// through all their values as n does; its times are in UTC, to the
// microsecond. Its Ref is empty: the cases that need one set it.
func record(tenant, subject string, n int) consent.Record {
	sum := sha256.Sum256(fmt.Appendf(nil, "notice %d", n%3))
	at := base.Add(time.Duration(n)*time.Minute + time.Duration(n)*time.Microsecond)
	return consent.Record{
		ID:      recordID(tenant, subject, n),
		Tenant:  tenant,
		Subject: dataward.SubjectID(subject),
		Purpose: fmt.Sprintf("marketing.email.%d", n%2),
		Kind:    kinds[n%len(kinds)],
		Method:  methods[n%len(methods)],
		Notice: consent.NoticeRef{
			ID:       "privacy-notice",
			Version:  1 + n%3,
			Language: "en-ZA",
			SHA256:   hex.EncodeToString(sum[:]),
		},
		ActorID:   "actor-" + subject,
		ActorKind: actorKinds[n%len(actorKinds)],
		Evidence: consent.Evidence{
			IP:        fmt.Sprintf("hk1:ip:%x", sum[:8]),
			UserAgent: fmt.Sprintf("hk1:ua:%x", sum[8:16]),
		},
		Jurisdiction: "ZA",
		Time:         at,
		Expires:      at.AddDate(1, 0, 0),
		Note:         fmt.Sprintf("record %d", n),
	}
}

// sameRecord reports the first field in which got differs from want.
// Times must be the same instant and in UTC.
func sameRecord(got, want consent.Record) error {
	sameTime := func(name string, got, want time.Time) error {
		switch {
		case !got.Equal(want):
			return fmt.Errorf("%s = %v, want %v", name, got, want)
		case got.Location() != time.UTC:
			return fmt.Errorf("%s = %v, in location %q, want it in UTC as it was given", name, got, got.Location())
		}
		return nil
	}
	switch {
	case got.Seq != want.Seq:
		return fmt.Errorf("Seq = %d, want %d", got.Seq, want.Seq)
	case got.ID != want.ID:
		return fmt.Errorf("ID = %q, want %q", got.ID, want.ID)
	case got.Tenant != want.Tenant:
		return fmt.Errorf("Tenant = %q, want %q", got.Tenant, want.Tenant)
	case got.Subject != want.Subject:
		return fmt.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	case got.Purpose != want.Purpose:
		return fmt.Errorf("Purpose = %q, want %q", got.Purpose, want.Purpose)
	case got.Kind != want.Kind:
		return fmt.Errorf("Kind = %q, want %q", got.Kind, want.Kind)
	case got.Method != want.Method:
		return fmt.Errorf("Method = %q, want %q", got.Method, want.Method)
	case got.Notice != want.Notice:
		return fmt.Errorf("Notice = %+v, want %+v", got.Notice, want.Notice)
	case got.ActorID != want.ActorID:
		return fmt.Errorf("ActorID = %q, want %q", got.ActorID, want.ActorID)
	case got.ActorKind != want.ActorKind:
		return fmt.Errorf("ActorKind = %q, want %q", got.ActorKind, want.ActorKind)
	// Evidence prints redacted; its fields are compared and shown one
	// by one.
	case got.Evidence.IP != want.Evidence.IP:
		return fmt.Errorf("Evidence.IP = %q, want %q", got.Evidence.IP, want.Evidence.IP)
	case got.Evidence.UserAgent != want.Evidence.UserAgent:
		return fmt.Errorf("Evidence.UserAgent = %.80q (%d bytes), want %.80q (%d bytes)",
			got.Evidence.UserAgent, len(got.Evidence.UserAgent), want.Evidence.UserAgent, len(want.Evidence.UserAgent))
	case got.Jurisdiction != want.Jurisdiction:
		return fmt.Errorf("Jurisdiction = %q, want %q", got.Jurisdiction, want.Jurisdiction)
	case got.Ref != want.Ref:
		return fmt.Errorf("Ref = %q, want %q", got.Ref, want.Ref)
	case got.Note != want.Note:
		return fmt.Errorf("Note = %q, want %q", got.Note, want.Note)
	}
	if err := sameTime("Time", got.Time, want.Time); err != nil {
		return err
	}
	if want.Expires.IsZero() {
		if !got.Expires.IsZero() {
			return fmt.Errorf("Expires = %v, want the zero time", got.Expires)
		}
	} else if err := sameTime("Expires", got.Expires, want.Expires); err != nil {
		return err
	}
	// The record's digest, which its audit event carries, must be the
	// same: anyone holding the record can recompute it.
	if g, w := got.Digest(), want.Digest(); g != w {
		return fmt.Errorf("Digest = %s, want %s", g, w)
	}
	// Any field the cases above do not name (one added to Record later)
	// must round-trip too.
	got.Time, want.Time = time.Time{}, time.Time{}
	got.Expires, want.Expires = time.Time{}, time.Time{}
	if got != want {
		return fmt.Errorf("the record differs from the one appended: got %+v, want %+v", got, want)
	}
	return nil
}

// seqsOf returns the Seq of each record.
func seqsOf(recs []consent.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// sameRecords compares what call returned with what it should have.
func sameRecords(call string, got, want []consent.Record) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s returned the records of Seq %v, want %v", call, seqsOf(got), seqsOf(want))
	}
	for i := range want {
		if err := sameRecord(got[i], want[i]); err != nil {
			return fmt.Errorf("%s: record %d of %d (want Seq %d): %v", call, i+1, len(want), want[i].Seq, err)
		}
	}
	return nil
}

// appendSeq appends rec, checks that the store gave it Seq want, and
// returns rec with that Seq.
func appendSeq(ctx context.Context, s consent.Store, rec consent.Record, want int64) (consent.Record, error) {
	seq, err := s.Append(ctx, rec)
	if err != nil {
		return rec, fmt.Errorf("Append(tenant %q, subject %q, ref %q): %v", rec.Tenant, rec.Subject, rec.Ref, err)
	}
	if seq != want {
		return rec, fmt.Errorf("Append(tenant %q, subject %q) returned Seq %d, want %d", rec.Tenant, rec.Subject, seq, want)
	}
	rec.Seq = seq
	return rec, nil
}

// appendAll appends recs, all of one tenant that holds nothing yet, and
// returns them with their Seqs 1, 2, 3, ...
func appendAll(ctx context.Context, s consent.Store, recs []consent.Record) ([]consent.Record, error) {
	out := make([]consent.Record, len(recs))
	for i, rec := range recs {
		var err error
		if out[i], err = appendSeq(ctx, s, rec, int64(i+1)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkHistory checks that History(tenant, subject) returns want.
func checkHistory(ctx context.Context, s consent.Store, tenant, subject string, want []consent.Record) error {
	call := fmt.Sprintf("History(%q, %q)", tenant, subject)
	got, err := s.History(ctx, tenant, dataward.SubjectID(subject))
	if err != nil {
		return fmt.Errorf("%s: %v", call, err)
	}
	return sameRecords(call, got, want)
}

// checkSince checks that Since(tenant, after, limit) returns want.
func checkSince(ctx context.Context, s consent.Store, tenant string, after int64, limit int, want []consent.Record) error {
	call := fmt.Sprintf("Since(%q, %d, %d)", tenant, after, limit)
	got, err := s.Since(ctx, tenant, after, limit)
	if err != nil {
		return fmt.Errorf("%s: %v", call, err)
	}
	return sameRecords(call, got, want)
}

// checkHead checks that Head(tenant) returns want.
func checkHead(ctx context.Context, s consent.Store, tenant string, want int64) error {
	got, err := s.Head(ctx, tenant)
	if err != nil {
		return fmt.Errorf("Head(%q): %v", tenant, err)
	}
	if got != want {
		return fmt.Errorf("Head(%q) = %d, want %d", tenant, got, want)
	}
	return nil
}

// expectSince returns what Since(after, limit) must return from a ledger
// holding all, whose Seqs are 1, 2, 3, ...
func expectSince(all []consent.Record, after int64, limit int) []consent.Record {
	start := min(max(after, 0), int64(len(all)))
	end := min(start+int64(limit), int64(len(all)))
	return all[start:end]
}

// bySubject returns the records of subject among recs, in their order.
func bySubject(recs []consent.Record, subject string) []consent.Record {
	var out []consent.Record
	for _, r := range recs {
		if r.Subject == dataward.SubjectID(subject) {
			out = append(out, r)
		}
	}
	return out
}

// readAll pages through the tenant's ledger with Since and returns every
// record, checking that the pages follow on from one another.
func readAll(ctx context.Context, s consent.Store, tenant string, limit int) ([]consent.Record, error) {
	var all []consent.Record
	for after := int64(0); ; {
		page, err := s.Since(ctx, tenant, after, limit)
		if err != nil {
			return nil, fmt.Errorf("Since(%q, %d, %d): %v", tenant, after, limit, err)
		}
		if len(page) == 0 {
			return all, nil
		}
		if len(page) > limit {
			return nil, fmt.Errorf("Since(%q, %d, %d) returned %d records", tenant, after, limit, len(page))
		}
		for _, r := range page {
			if r.Seq != after+1 {
				return nil, fmt.Errorf("Since(%q, %d, %d) returned the records of Seq %v: Seq %d follows %d", tenant, after, limit, seqsOf(page), r.Seq, after)
			}
			after = r.Seq
		}
		all = append(all, page...)
	}
}

var cases = []testCase{
	{
		Name:   "EmptyStore",
		Clause: "a new store holds no records: History and Since return none, and Head 0, without error",
		Run: func(ctx context.Context, s consent.Store) error {
			return errors.Join(
				checkHead(ctx, s, "a", 0),
				checkHead(ctx, s, "", 0),
				checkHistory(ctx, s, "a", "alice", nil),
				checkHistory(ctx, s, "", "", nil),
				checkSince(ctx, s, "a", 0, consent.MaxPage, nil),
				checkSince(ctx, s, "", 0, 1, nil),
			)
		},
	},
	{
		Name:   "AppendSeq",
		Clause: "Append returns Seq 1 for a tenant's first record and one more than the last for each next one; the Seq the caller sets in rec is ignored",
		Run: func(ctx context.Context, s consent.Store) error {
			var want []consent.Record
			for i, callerSeq := range []int64{0, 0, 42, -7, 1, 1 << 40, 3} {
				rec := record("a", "alice", i)
				rec.Seq = callerSeq
				got, err := appendSeq(ctx, s, rec, int64(i+1))
				if err != nil {
					return fmt.Errorf("with rec.Seq = %d: %v", callerSeq, err)
				}
				want = append(want, got)
				if err := checkHead(ctx, s, "a", int64(i+1)); err != nil {
					return err
				}
			}
			return errors.Join(
				checkSince(ctx, s, "a", 0, consent.MaxPage, want),
				checkHistory(ctx, s, "a", "alice", want),
			)
		},
	},
	{
		Name:   "Head",
		Clause: "Head returns the Seq of the tenant's last record, or 0 if the tenant has none",
		Run: func(ctx context.Context, s consent.Store) error {
			if _, err := appendAll(ctx, s, []consent.Record{record("a", "alice", 1), record("a", "bob", 2), record("a", "alice", 3)}); err != nil {
				return err
			}
			if _, err := appendSeq(ctx, s, record("b", "alice", 1), 1); err != nil {
				return err
			}
			return errors.Join(
				checkHead(ctx, s, "a", 3),
				checkHead(ctx, s, "b", 1),
				checkHead(ctx, s, "A", 0),
				checkHead(ctx, s, "c", 0),
			)
		},
	},
	{
		Name:   "RoundTrip",
		Clause: "a Store keeps every field of a record exactly as given: History and Since return it unchanged (Time and Expires the same UTC instants, to the microsecond; a zero Expires stays zero)",
		Run: func(ctx context.Context, s consent.Store) error {
			full := record("tenant-ünï", "subject/ключ", 1)
			full.Purpose = "analytics.product-improvement"
			full.Kind = consent.Given
			full.Method = consent.MethodDoubleOptIn
			full.Notice = consent.NoticeRef{
				ID:       "privacy/notice-ZA",
				Version:  12,
				Language: "af-ZA",
				SHA256:   strings.Repeat("0123456789abcdef", 4),
			}
			full.ActorID = "svc:web-frontend@eu-west-1"
			full.ActorKind = dataward.ActorService
			full.Evidence = consent.Evidence{
				IP: "v1:2001:db8::ff00:42:8329:" + strings.Repeat("A", 40),
				// A user agent of about 1 KB, as browsers send.
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36" +
					strings.Repeat(" Ext/1.0 (+https://example.test/ä)", 26),
			}
			full.Jurisdiction = "US-CA"
			full.Time = time.Date(2026, 2, 28, 23, 59, 59, 999999000, time.UTC)
			full.Expires = time.Date(2027, 2, 28, 23, 59, 59, 1000, time.UTC)
			full.Ref = "token:Zm9vYmFy-ünï"
			full.Note = "GPC-Signal nicht angewendet: später ausdrücklich zugestimmt — 同意した ✓ 🍪\n\t\"quoted\" 'and' \\backslash\\ 100%"

			bare := consent.Record{
				ID:      recordID("tenant-ünï", "subject/ключ", 2),
				Tenant:  "tenant-ünï",
				Subject: "subject/ключ",
				Purpose: "marketing",
				Kind:    consent.Withdrawn,
				Method:  consent.MethodUnsubscribe,
				Time:    base,
			}
			expiry := record("tenant-ünï", "subject/ключ", 3)
			expiry.Kind, expiry.Method, expiry.ActorKind = consent.Expired, consent.MethodSystem, dataward.ActorSystem
			expiry.Expires = time.Time{}
			expiry.Evidence = consent.Evidence{}

			want, err := appendAll(ctx, s, []consent.Record{full, bare, expiry})
			if err != nil {
				return err
			}
			var errs []error
			for _, limit := range []int{consent.MaxPage, 1} {
				got, err := readAll(ctx, s, "tenant-ünï", limit)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				errs = append(errs, sameRecords(fmt.Sprintf("Since, %d at a time", limit), got, want))
			}
			errs = append(errs, checkHistory(ctx, s, "tenant-ünï", "subject/ключ", want))
			return errors.Join(errs...)
		},
	},
	{
		Name:   "EveryKindAndMethod",
		Clause: "a Store keeps records of every Kind, Method and ActorKind",
		Run: func(ctx context.Context, s consent.Store) error {
			n := len(kinds) * len(methods) // record(n) pairs every Kind with every Method
			recs := make([]consent.Record, n)
			for i := range recs {
				recs[i] = record("a", fmt.Sprintf("subject-%d", i%3), i)
				if i%4 == 0 {
					recs[i].Expires = time.Time{}
				}
			}
			want, err := appendAll(ctx, s, recs)
			if err != nil {
				return err
			}
			return checkSince(ctx, s, "a", 0, consent.MaxPage, want)
		},
	},
	{
		Name:   "TenantIsolation",
		Clause: "each tenant has its own ledger: Seqs count from 1 in each, and Head is its own; History and Since of a tenant never return another's records, even of the same subject; tenant names compare byte for byte",
		Run: func(ctx context.Context, s consent.Store) error {
			tenants := []string{"a", "b", "A", ""}
			want := map[string][]consent.Record{}
			// Interleave the tenants: a, b, A, "", a, b, ... with the same
			// subjects in each.
			for i := range 12 {
				for _, tenant := range tenants {
					subject := []string{"alice", "bob"}[i%2]
					got, err := appendSeq(ctx, s, record(tenant, subject, i), int64(i+1))
					if err != nil {
						return err
					}
					want[tenant] = append(want[tenant], got)
				}
			}
			var errs []error
			for _, tenant := range tenants {
				errs = append(errs,
					checkHead(ctx, s, tenant, 12),
					checkSince(ctx, s, tenant, 0, consent.MaxPage, want[tenant]),
					checkSince(ctx, s, tenant, 5, 3, want[tenant][5:8]),
					checkHistory(ctx, s, tenant, "alice", bySubject(want[tenant], "alice")),
					checkHistory(ctx, s, tenant, "bob", bySubject(want[tenant], "bob")),
				)
			}
			errs = append(errs,
				checkHead(ctx, s, "c", 0),
				checkSince(ctx, s, "c", 0, consent.MaxPage, nil),
				checkHistory(ctx, s, "c", "alice", nil),
			)
			return errors.Join(errs...)
		},
	},
	{
		Name:   "RefPerTenant",
		Clause: "a Ref is unique within its tenant only: the same Ref may be used once in each tenant",
		Run: func(ctx context.Context, s consent.Store) error {
			var errs []error
			for _, tenant := range []string{"a", "b", ""} {
				rec := record(tenant, "alice", 1)
				rec.Ref = "idem-1"
				got, err := appendSeq(ctx, s, rec, 1)
				if err != nil {
					return fmt.Errorf("a Ref used in another tenant: %v", err)
				}
				errs = append(errs, checkSince(ctx, s, tenant, 0, 10, []consent.Record{got}))
			}
			dup := record("b", "bob", 2)
			dup.Ref = "idem-1"
			if _, err := s.Append(ctx, dup); !errors.Is(err, consent.ErrDuplicateRef) {
				errs = append(errs, fmt.Errorf("Append of a Ref used in the same tenant, after it was used in others: error = %v, want ErrDuplicateRef", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "History",
		Clause: "History returns every record of the subject in the tenant, and only those, in Seq order; subjects compare byte for byte",
		Run: func(ctx context.Context, s consent.Store) error {
			subjects := []string{"alice", "bob", "Alice", "alice", "carol", "alice", "bob", "alice ", "ünï/ключ", "alice"}
			recs := make([]consent.Record, len(subjects))
			for i, subj := range subjects {
				recs[i] = record("a", subj, i)
			}
			all, err := appendAll(ctx, s, recs)
			if err != nil {
				return err
			}
			// Another tenant's records of the same subjects.
			if _, err := appendSeq(ctx, s, record("b", "alice", 100), 1); err != nil {
				return err
			}
			var errs []error
			for _, subj := range []string{"alice", "bob", "Alice", "carol", "alice ", "ünï/ключ"} {
				errs = append(errs, checkHistory(ctx, s, "a", subj, bySubject(all, subj)))
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "HistoryUnknown",
		Clause: "History of a subject without records in the tenant, or of a tenant without records, returns none and no error; so does Since of a tenant without records",
		Run: func(ctx context.Context, s consent.Store) error {
			if _, err := appendAll(ctx, s, []consent.Record{record("a", "alice", 1), record("a", "bob", 2)}); err != nil {
				return err
			}
			return errors.Join(
				checkHistory(ctx, s, "a", "nobody", nil),
				checkHistory(ctx, s, "a", "", nil),
				checkHistory(ctx, s, "a", "ALICE", nil),
				checkHistory(ctx, s, "b", "alice", nil),
				checkSince(ctx, s, "b", 0, consent.MaxPage, nil),
			)
		},
	},
	{
		Name:   "Since",
		Clause: "Since returns the tenant's records with Seq > after, in Seq order, at most limit of them; none when after is at or past the last Seq; an after below 0 counts as 0",
		Run: func(ctx context.Context, s consent.Store) error {
			recs := make([]consent.Record, 10)
			for i := range recs {
				recs[i] = record("a", []string{"alice", "bob", "carol"}[i%3], i)
			}
			all, err := appendAll(ctx, s, recs)
			if err != nil {
				return err
			}
			var errs []error
			for _, q := range []struct {
				after int64
				limit int
			}{
				{0, consent.MaxPage}, {0, 1}, {0, 10}, {0, 11}, {3, 4}, {7, 10}, {9, 1}, {9, consent.MaxPage},
				{10, 1}, {10, consent.MaxPage}, {11, 5}, {1 << 40, 1},
				{-1, 3}, {-1, consent.MaxPage}, {-1 << 40, 2},
			} {
				errs = append(errs, checkSince(ctx, s, "a", q.after, q.limit, expectSince(all, q.after, q.limit)))
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "SincePaging",
		Clause: "paging with Since, each time after the last Seq returned, visits every record of the tenant exactly once, in Seq order, and then returns none",
		Run: func(ctx context.Context, s consent.Store) error {
			var all []consent.Record
			for i := range 23 {
				got, err := appendSeq(ctx, s, record("a", []string{"alice", "bob"}[i%2], i), int64(i+1))
				if err != nil {
					return err
				}
				all = append(all, got)
				// Another tenant's records in between.
				if _, err := appendSeq(ctx, s, record("b", "alice", i), int64(i+1)); err != nil {
					return err
				}
			}
			var errs []error
			for _, limit := range []int{1, 5, 22, 23, 24, consent.MaxPage} {
				after := int64(0)
				for pages := 0; ; pages++ {
					if pages > len(all)+1 {
						errs = append(errs, fmt.Errorf("paging with Since, %d at a time, does not end", limit))
						break
					}
					want := expectSince(all, after, limit)
					if err := checkSince(ctx, s, "a", after, limit, want); err != nil {
						errs = append(errs, err)
						break
					}
					if len(want) == 0 {
						break
					}
					after = want[len(want)-1].Seq
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "SinceLimitOutOfRange",
		Clause: "Since with a limit below 1 or above MaxPage is an error",
		Run: func(ctx context.Context, s consent.Store) error {
			if _, err := appendAll(ctx, s, []consent.Record{record("a", "alice", 1), record("a", "alice", 2)}); err != nil {
				return err
			}
			var errs []error
			for _, tenant := range []string{"a", "unknown"} {
				for _, limit := range []int{0, -1, math.MinInt, consent.MaxPage + 1, math.MaxInt} {
					if got, err := s.Since(ctx, tenant, 0, limit); err == nil {
						errs = append(errs, fmt.Errorf("Since(%q, 0, %d) returned %d records and no error, want an error", tenant, limit, len(got)))
					}
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "DuplicateRef",
		Clause: "Append of a record with the Ref of a record of its tenant stores nothing and returns an error matching ErrDuplicateRef; it takes no Seq: the next record appended gets the next one; Refs compare byte for byte",
		Run: func(ctx context.Context, s consent.Store) error {
			first := record("a", "alice", 1)
			first.Ref = "ref-1"
			want, err := appendAll(ctx, s, []consent.Record{first, record("a", "alice", 2)})
			if err != nil {
				return err
			}
			// Another subject, another ID, other fields: only the Ref is the
			// same.
			dup := record("a", "bob", 3)
			dup.Ref = "ref-1"
			for try := range 2 {
				seq, err := s.Append(ctx, dup)
				if !errors.Is(err, consent.ErrDuplicateRef) {
					return fmt.Errorf("Append of a duplicate Ref (try %d) = %d, %v; want an error matching ErrDuplicateRef", try+1, seq, err)
				}
			}
			if err := errors.Join(
				checkHead(ctx, s, "a", 2),
				checkSince(ctx, s, "a", 0, consent.MaxPage, want),
				checkHistory(ctx, s, "a", "bob", nil),
			); err != nil {
				return fmt.Errorf("after Appends refused for a duplicate Ref: %v", err)
			}
			next := record("a", "bob", 4)
			next.Ref = "REF-1" // another Ref
			got, err := appendSeq(ctx, s, next, 3)
			if err != nil {
				return fmt.Errorf("after Appends refused for a duplicate Ref: %v", err)
			}
			want = append(want, got)
			if _, err := s.Append(ctx, next); !errors.Is(err, consent.ErrDuplicateRef) {
				return fmt.Errorf("second Append of Ref %q: error = %v, want an error matching ErrDuplicateRef", next.Ref, err)
			}
			got, err = appendSeq(ctx, s, record("a", "carol", 5), 4)
			if err != nil {
				return fmt.Errorf("after Appends refused for a duplicate Ref: %v", err)
			}
			want = append(want, got)
			return errors.Join(
				checkSince(ctx, s, "a", 0, consent.MaxPage, want),
				checkHistory(ctx, s, "a", "bob", bySubject(want, "bob")),
			)
		},
	},
	{
		Name:   "EmptyRefNeverConflicts",
		Clause: "an empty Ref is no Ref: records without one never conflict",
		Run: func(ctx context.Context, s consent.Store) error {
			recs := make([]consent.Record, 5)
			for i := range recs {
				recs[i] = record("a", "alice", i) // Ref ""
			}
			want, err := appendAll(ctx, s, recs)
			if err != nil {
				return err
			}
			return checkHistory(ctx, s, "a", "alice", want)
		},
	},
	{
		Name:   "ConcurrentAppends",
		Clause: "concurrent Appends give every record exactly one Seq, and the tenant's Seqs are exactly 1 to n, without gaps or repeats; an appender's records get Seqs in the order it appended them",
		Run: func(ctx context.Context, s consent.Store) error {
			const writers, each = 8, 25
			seqs := make([][]int64, writers)
			errs := make([]error, writers)
			recs := make([][]consent.Record, writers)
			var wg sync.WaitGroup
			for w := range writers {
				for i := range each {
					rec := record("a", fmt.Sprintf("writer-%d", w), i)
					if i%2 == 0 {
						rec.Ref = fmt.Sprintf("w%d-r%d", w, i)
					}
					recs[w] = append(recs[w], rec)
				}
				wg.Go(func() {
					for _, rec := range recs[w] {
						seq, err := s.Append(ctx, rec)
						if err != nil {
							errs[w] = fmt.Errorf("concurrent Append (writer %d): %v", w, err)
							return
						}
						seqs[w] = append(seqs[w], seq)
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
			// want[seq-1] is the record that Append returned seq for.
			want := make([]consent.Record, writers*each)
			for w := range writers {
				for i, seq := range seqs[w] {
					switch {
					case seq < 1 || seq > writers*each:
						return fmt.Errorf("concurrent Append returned Seq %d, out of 1 to %d", seq, writers*each)
					case want[seq-1].ID != "":
						return fmt.Errorf("concurrent Append returned Seq %d twice", seq)
					case i > 0 && seq <= seqs[w][i-1]:
						return fmt.Errorf("an appender got Seq %d after Seq %d", seq, seqs[w][i-1])
					}
					rec := recs[w][i]
					rec.Seq = seq
					want[seq-1] = rec
					recs[w][i] = rec
				}
			}
			got, err := readAll(ctx, s, "a", 64)
			if err != nil {
				return err
			}
			errs = []error{
				sameRecords("Since, 64 at a time, after concurrent Appends", got, want),
				checkHead(ctx, s, "a", writers*each),
			}
			for w := range writers {
				errs = append(errs, checkHistory(ctx, s, "a", fmt.Sprintf("writer-%d", w), recs[w]))
			}
			return errors.Join(errs...)
		},
	},
	{
		Name:   "SinceDuringAppends",
		Clause: "records become visible to Since in Seq order, without gaps: a reader that has seen Seq n, while others append, next sees n+1, never a record below n later; Head never goes back, nor tells of a record that Since does not show yet",
		Run: func(ctx context.Context, s consent.Store) error {
			const writers, each = 4, 25
			done := make(chan struct{})
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						if _, err := s.Append(ctx, record("a", fmt.Sprintf("writer-%d", w), i)); err != nil {
							errs[w] = fmt.Errorf("concurrent Append (writer %d): %v", w, err)
							return
						}
					}
				})
			}
			go func() { wg.Wait(); close(done) }()
			var seen int64
			readErr := func() error {
				var head int64
				for {
					finished := false
					select {
					case <-done:
						finished = true
					default:
					}
					h, err := s.Head(ctx, "a")
					if err != nil {
						return fmt.Errorf("Head(%q) during concurrent Appends: %v", "a", err)
					}
					if h < head {
						return fmt.Errorf("Head(%q) during concurrent Appends returned %d after %d", "a", h, head)
					}
					head = h
					call := fmt.Sprintf("Since(%q, %d, 7) during concurrent Appends", "a", seen)
					page, err := s.Since(ctx, "a", seen, 7)
					if err != nil {
						return fmt.Errorf("%s: %v", call, err)
					}
					for _, r := range page {
						if r.Seq != seen+1 {
							return fmt.Errorf("%s returned the records of Seq %v: a reader that has seen %d must see %d next", call, seqsOf(page), seen, seen+1)
						}
						seen = r.Seq
					}
					if len(page) == 0 && seen < head {
						return fmt.Errorf("Head(%q) returned %d, then %s returned no record: Head told of a record that Since does not show", "a", head, call)
					}
					if len(page) == 0 && finished {
						return nil
					}
				}
			}()
			<-done
			if err := errors.Join(errs...); err != nil {
				return err
			}
			if readErr != nil {
				return readErr
			}
			if seen != writers*each {
				return fmt.Errorf("a reader paging with Since saw %d records of the %d appended", seen, writers*each)
			}
			return checkHead(ctx, s, "a", writers*each)
		},
	},
	{
		Name:   "ConcurrentDuplicateRef",
		Clause: "of concurrent Appends of records with the same Ref, exactly one succeeds; the others return an error matching ErrDuplicateRef and store nothing, nor take a Seq",
		Run: func(ctx context.Context, s consent.Store) error {
			const racers = 12
			recs := make([]consent.Record, racers)
			seqs := make([]int64, racers)
			errs := make([]error, racers)
			var wg sync.WaitGroup
			for i := range racers {
				recs[i] = record("a", fmt.Sprintf("racer-%d", i), i)
				recs[i].Ref = "once"
				wg.Go(func() { seqs[i], errs[i] = s.Append(ctx, recs[i]) })
			}
			wg.Wait()
			winner := -1
			var bad []error
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					bad = append(bad, fmt.Errorf("racers %d and %d both appended Ref %q", winner, i, "once"))
				case err == nil:
					winner = i
				case !errors.Is(err, consent.ErrDuplicateRef):
					bad = append(bad, fmt.Errorf("racer %d: Append error = %v, want an error matching ErrDuplicateRef", i, err))
				}
			}
			if len(bad) > 0 {
				return errors.Join(bad...)
			}
			if winner < 0 {
				return fmt.Errorf("none of %d concurrent Appends of Ref %q succeeded", racers, "once")
			}
			if seqs[winner] != 1 {
				return fmt.Errorf("the Append that won the race for a Ref returned Seq %d, want 1", seqs[winner])
			}
			won := recs[winner]
			won.Seq = 1
			next, err := appendSeq(ctx, s, record("a", "after", 99), 2)
			if err != nil {
				return fmt.Errorf("after a race for a Ref: %v", err)
			}
			return errors.Join(
				checkSince(ctx, s, "a", 0, consent.MaxPage, []consent.Record{won, next}),
				checkHead(ctx, s, "a", 2),
			)
		},
	},
	{
		Name:   "CanceledContext",
		Clause: "Append with a canceled context fails and stores nothing: no record, no Seq, no Ref",
		Run: func(ctx context.Context, s consent.Store) error {
			first, err := appendSeq(ctx, s, record("a", "alice", 1), 1)
			if err != nil {
				return err
			}
			rec := record("a", "bob", 2)
			rec.Ref = "ref-canceled"
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if seq, err := s.Append(canceled, rec); err == nil {
				return fmt.Errorf("Append with a canceled context returned Seq %d and no error", seq)
			}
			if err := errors.Join(
				checkHead(ctx, s, "a", 1),
				checkSince(ctx, s, "a", 0, consent.MaxPage, []consent.Record{first}),
				checkHistory(ctx, s, "a", "bob", nil),
			); err != nil {
				return fmt.Errorf("after an Append with a canceled context: %v", err)
			}
			second, err := appendSeq(ctx, s, rec, 2)
			if err != nil {
				return fmt.Errorf("the same record after an Append with a canceled context: %v", err)
			}
			return checkSince(ctx, s, "a", 0, consent.MaxPage, []consent.Record{first, second})
		},
	},
}

// startWatch calls Watch(tenant) in a new goroutine.
func startWatch(ctx context.Context, s consent.Store, tenant string) *conformance.Watching {
	return conformance.StartWatch(ctx, fmt.Sprintf("Watch(%q)", tenant), func(ctx context.Context, changed chan<- struct{}) error {
		return s.(consent.Watcher).Watch(ctx, tenant, changed)
	})
}

// watchCases run only on stores that implement [consent.Watcher]. They do
// not check that Watch never sends without cause: it may.
var watchCases = []testCase{
	{
		Name:   "WatchReady",
		Clause: "Watch sends on its channel once it is ready, before any record is added",
		Run: func(ctx context.Context, s consent.Store) error {
			w := startWatch(ctx, s, "a")
			return errors.Join(w.Next("once ready"), w.Stop())
		},
	},
	{
		Name:   "WatchAfterAppend",
		Clause: "after it is ready, Watch sends again after a record is added to its tenant, each time, to every watcher of the tenant",
		Run: func(ctx context.Context, s consent.Store) error {
			ws := []*conformance.Watching{startWatch(ctx, s, "a"), startWatch(ctx, s, "a")}
			err := func() error {
				for i, w := range ws {
					if err := w.Next("once ready"); err != nil {
						return fmt.Errorf("watcher %d: %v", i+1, err)
					}
				}
				for n := range 2 {
					rec := record("a", "alice", n)
					if _, err := appendSeq(ctx, s, rec, int64(n+1)); err != nil {
						return err
					}
					for i, w := range ws {
						if err := w.Next(fmt.Sprintf("after Append number %d", n+1)); err != nil {
							return fmt.Errorf("watcher %d: %v", i+1, err)
						}
					}
				}
				return nil
			}()
			return errors.Join(err, ws[0].Stop(), ws[1].Stop())
		},
	},
	{
		Name:   "WatchStopsOnCancel",
		Clause: "Watch returns ctx's error once ctx is done, whether it was canceled while Watch ran or before",
		Run: func(ctx context.Context, s consent.Store) error {
			w := startWatch(ctx, s, "a")
			err := errors.Join(w.Next("once ready"), w.Stop())
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			early := startWatch(canceled, s, "a")
			early.Call = fmt.Sprintf("Watch(%q) with a canceled context", "a")
			return errors.Join(err, early.Stop())
		},
	},
}
