package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/consent"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestConsentWatchAcrossProcesses
// or TestConsentAppendAcrossProcesses: the DSN to append to.
const (
	consentWatchChildEnv  = "DATAWARD_SQLSTORE_TEST_CONSENT_WATCH_DSN"
	consentAppendChildEnv = "DATAWARD_SQLSTORE_TEST_CONSENT_APPEND_DSN"
)

// TestConsentWatchAcrossProcesses watches a tenant while another process
// appends a record to it: Watch must signal, and the record then be
// visible to Since, well within 10 s.
func TestConsentWatchAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(consentWatchChildEnv); dsn != "" {
		consentWatchChild(t, dsn)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s := open(t, dsn).ConsentStore()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		changed := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() { done <- s.Watch(wctx, "shared", changed) }()
		waitSignal(t, changed, "ready")

		out := raceChildren(ctx, t, "TestConsentWatchAcrossProcesses", 1, consentWatchChildEnv+"="+dsn)
		require.Equal(t, []string{"SEQ 1"}, out[0][:1])
		waitSeen(t, s, changed, "shared", 1)
		stop()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

func consentWatchChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	waitForRelease()
	seq, err := db.ConsentStore().Append(ctx, consentRec("shared", "alice", 1))
	require.NoError(t, err)
	fmt.Printf("SEQ %d\n", seq)
}

const (
	consentProcesses        = 4
	consentProcessAppends   = 50
	consentProcessSharedRef = 10
)

// TestConsentAppendAcrossProcesses runs the test binary several times at
// once, as processes of a host would run. Each opens the same fresh
// database (racing the migrations) and then, released at the same moment,
// appends records to one tenant, some with refs that every process tries.
// The tenant must end with Seqs 1 to n without gaps, each record appended
// once, each process's records in the order it appended them, and each
// shared ref taken by exactly one process.
func TestConsentAppendAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(consentAppendChildEnv); dsn != "" {
		consentAppendChild(t, dsn, os.Getenv(childIDEnv))
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		out := raceChildren(ctx, t, "TestConsentAppendAcrossProcesses", consentProcesses, consentAppendChildEnv+"="+dsn)
		reported := make(map[int64]string) // seq: ID
		for i, lines := range out {
			var last int64
			for _, line := range lines {
				rest, ok := strings.CutPrefix(line, "SEQ ")
				if !ok {
					continue
				}
				seqText, id, _ := strings.Cut(rest, " ")
				seq, err := strconv.ParseInt(seqText, 10, 64)
				require.NoError(t, err)
				require.Greater(t, seq, last, "process %d: Seqs in the order it appended", i)
				last = seq
				require.NotContains(t, reported, seq, "Seq %d given twice", seq)
				reported[seq] = id
			}
		}
		n := consentProcesses*consentProcessAppends + consentProcessSharedRef
		require.Len(t, reported, n)

		s := open(t, dsn).ConsentStore()
		recs, err := s.Since(ctx, "race", 0, consent.MaxPage)
		require.NoError(t, err)
		require.Len(t, recs, n)
		refs := make(map[string]int)
		for i, r := range recs {
			require.Equal(t, int64(i+1), r.Seq, "no gaps")
			require.Equal(t, reported[r.Seq], r.ID, "Seq %d", r.Seq)
			if r.Ref != "" {
				refs[r.Ref]++
			}
		}
		require.Len(t, refs, consentProcessSharedRef)
		for ref, count := range refs {
			require.Equal(t, 1, count, ref)
		}
		head, err := s.Head(ctx, "race")
		require.NoError(t, err)
		require.Equal(t, int64(n), head)
	})
}

func consentAppendChild(t *testing.T, dsn, id string) {
	ctx := context.Background()
	child, err := strconv.Atoi(id)
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	s := db.ConsentStore()
	waitForRelease()

	var out strings.Builder
	shared := 0
	for i := range consentProcessAppends + consentProcessSharedRef {
		rec := consentRec("race", "subject-"+id, child*1000+i)
		if i%5 == 0 && shared < consentProcessSharedRef {
			rec.Ref = fmt.Sprint("shared-", shared)
			shared++
		}
		seq, err := s.Append(ctx, rec)
		if errors.Is(err, consent.ErrDuplicateRef) {
			continue
		}
		require.NoError(t, err)
		fmt.Fprintf(&out, "SEQ %d %s\n", seq, rec.ID)
	}
	fmt.Print(out.String())
}
