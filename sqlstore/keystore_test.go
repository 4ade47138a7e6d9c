package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/piitest"
	"github.com/dataward/dataward/sqlstore"
)

func TestKeyStoreConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		piitest.Run(t, func(t *testing.T) pii.KeyStore {
			return open(t, b.dsn(t)).KeyStore()
		})
	})
}

var t0 = time.Date(2026, 5, 4, 3, 2, 1, 123456000, time.UTC)

func TestKeyStoreTimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ks := open(t, b.dsn(t)).KeyStore()
		ctx := context.Background()
		local := time.FixedZone("SAST", 2*60*60)
		created := time.Date(2026, 1, 2, 3, 4, 5, 987654321, local)
		got, err := ks.Create(ctx, pii.KeyRecord{Subject: "s", KeyID: 7, Wrapped: []byte("k"), Created: created})
		require.NoError(t, err)
		want := created.Truncate(time.Microsecond).UTC()
		require.Equal(t, want, got.Created, "stored to the microsecond, returned in UTC")
		require.Equal(t, time.UTC, got.Created.Location())

		got, err = ks.Get(ctx, "s")
		require.NoError(t, err)
		require.Equal(t, want, got.Created)
		require.True(t, got.Shredded.IsZero())

		at := time.Date(1969, 7, 20, 20, 17, 40, 999999999, local) // before the Unix epoch
		got, err = ks.Shred(ctx, "s", at)
		require.NoError(t, err)
		require.Equal(t, at.Truncate(time.Microsecond).UTC(), got.Shredded)
	})
}

// TestKeyStoreMatchesMemKeyStore applies the same random operations to the
// reference implementation and to the SQL one, and requires the same
// results.
func TestKeyStoreMatchesMemKeyStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		sqlKS := open(t, b.dsn(t)).KeyStore()
		mem := pii.NewMemKeyStore()
		rng := mrand.New(mrand.NewPCG(1, 2))
		subjects := []dataward.SubjectID{"a", "b", "B", "c", "ä", "a0", "z"}
		blobs := [][]byte{[]byte("k1"), []byte("k2\x00\xff"), {}, bytes.Repeat([]byte{0xab}, 300)}
		pick := func() dataward.SubjectID { return subjects[rng.IntN(len(subjects))] }
		when := func() time.Time { return t0.Add(time.Duration(rng.IntN(1e6)) * time.Microsecond) }

		for i := range 400 {
			var op string
			var memOut, sqlOut any
			var memErr, sqlErr error
			switch rng.IntN(5) {
			case 0:
				rec := pii.KeyRecord{Subject: pick(), KeyID: uint32(1 + rng.IntN(5)), Wrapped: bytes.Clone(blobs[rng.IntN(len(blobs))]), Created: when()}
				op = fmt.Sprintf("Create(%q, %d)", rec.Subject, rec.KeyID)
				memOut, memErr = mem.Create(ctx, rec)
				sqlOut, sqlErr = sqlKS.Create(ctx, rec)
			case 1:
				s, at := pick(), when()
				op = fmt.Sprintf("Shred(%q)", s)
				memOut, memErr = mem.Shred(ctx, s, at)
				sqlOut, sqlErr = sqlKS.Shred(ctx, s, at)
			case 2:
				s := pick()
				op = fmt.Sprintf("Get(%q)", s)
				memOut, memErr = mem.Get(ctx, s)
				sqlOut, sqlErr = sqlKS.Get(ctx, s)
			case 3:
				after, limit := pick(), rng.IntN(5)-1
				if rng.IntN(3) == 0 {
					after = ""
				}
				op = fmt.Sprintf("List(%q, %d)", after, limit)
				memOut, memErr = mem.List(ctx, after, limit)
				sqlOut, sqlErr = sqlKS.List(ctx, after, limit)
			case 4:
				var rs []pii.Replacement
				for range rng.IntN(4) {
					r := pii.Replacement{Subject: pick(), Old: blobs[rng.IntN(len(blobs))], New: []byte(fmt.Sprint("new", i))}
					if cur, err := mem.Get(ctx, r.Subject); err == nil && rng.IntN(2) == 0 {
						r.Old = cur.Wrapped
					}
					rs = append(rs, r)
				}
				op = fmt.Sprintf("Replace(%d)", len(rs))
				memOut, memErr = mem.Replace(ctx, rs)
				sqlOut, sqlErr = sqlKS.Replace(ctx, rs)
			}
			require.Equal(t, memErr == nil, sqlErr == nil, "step %d %s: errors %v, %v", i, op, memErr, sqlErr)
			if memErr != nil {
				require.ErrorIs(t, sqlErr, pii.ErrKeyNotFound, "step %d %s", i, op)
				require.ErrorIs(t, memErr, pii.ErrKeyNotFound, "step %d %s", i, op)
				continue
			}
			require.Equal(t, normalize(memOut), normalize(sqlOut), "step %d %s", i, op)
		}
	})
}

// normalize makes results comparable: an empty wrapped key is nil, and
// records are printed.
func normalize(v any) any {
	str := func(r pii.KeyRecord) string {
		return fmt.Sprintf("%s/%d/%x/%s/%s", r.Subject, r.KeyID, r.Wrapped,
			r.Created.UTC().Format(time.RFC3339Nano), r.Shredded.UTC().Format(time.RFC3339Nano))
	}
	switch v := v.(type) {
	case pii.KeyRecord:
		return str(v)
	case []pii.KeyRecord:
		out := []string{}
		for _, r := range v {
			out = append(out, str(r))
		}
		return out
	}
	return v
}

func TestKeyStoreCanceledContext(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ks := open(t, b.dsn(t)).KeyStore()
		live := pii.KeyRecord{Subject: "s", KeyID: 1, Wrapped: []byte("k"), Created: t0}
		_, err := ks.Create(context.Background(), live)
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = ks.Get(ctx, "s")
		require.ErrorIs(t, err, context.Canceled)
		_, err = ks.Create(ctx, pii.KeyRecord{Subject: "t", KeyID: 1})
		require.ErrorIs(t, err, context.Canceled)
		_, err = ks.Shred(ctx, "s", t0)
		require.ErrorIs(t, err, context.Canceled)
		_, err = ks.List(ctx, "", 10)
		require.ErrorIs(t, err, context.Canceled)
		_, err = ks.Replace(ctx, []pii.Replacement{{Subject: "s", Old: []byte("k"), New: []byte("n")}})
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, strings.HasPrefix(err.Error(), "sqlstore: replace keys: "), err.Error())

		got, err := ks.Get(context.Background(), "s")
		require.NoError(t, err)
		require.Equal(t, live.Wrapped, got.Wrapped, "nothing changed")
		_, err = ks.Get(context.Background(), "t")
		require.ErrorIs(t, err, pii.ErrKeyNotFound)
	})
}

func TestKeyStoreReplaceInOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ks := open(t, b.dsn(t)).KeyStore()
		ctx := context.Background()
		_, err := ks.Create(ctx, pii.KeyRecord{Subject: "s", KeyID: 1, Wrapped: []byte("v1"), Created: t0})
		require.NoError(t, err)
		n, err := ks.Replace(ctx, []pii.Replacement{
			{Subject: "s", Old: []byte("v1"), New: []byte("v2")},
			{Subject: "s", Old: []byte("v2"), New: []byte("v3")}, // sees the first
			{Subject: "s", Old: []byte("v1"), New: []byte("v4")}, // stale by now
		})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		got, err := ks.Get(ctx, "s")
		require.NoError(t, err)
		require.Equal(t, []byte("v3"), got.Wrapped)
	})
}

// TestCreateRaceAcrossPools is two processes' worth of pools creating the
// first key of the same subjects at once: each subject ends with one key,
// and every caller got that key back.
func TestCreateRaceAcrossPools(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		pools := []*sqlstore.DB{open(t, dsn), open(t, dsn)}
		const subjects, perPool = 40, 4
		type result struct {
			rec pii.KeyRecord
			err error
		}
		results := make([][]result, subjects)
		for i := range results {
			results[i] = make([]result, len(pools)*perPool)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for p, db := range pools {
			for g := range perPool {
				caller := p*perPool + g
				wg.Go(func() {
					<-start
					for s := range subjects {
						rec := pii.KeyRecord{
							Subject: dataward.SubjectID(fmt.Sprintf("subject-%03d", s)),
							KeyID:   uint32(caller + 1),
							Wrapped: []byte(fmt.Sprintf("key of caller %d", caller)),
							Created: t0.Add(time.Duration(caller) * time.Second),
						}
						got, err := db.KeyStore().Create(context.Background(), rec)
						results[s][caller] = result{got, err}
					}
				})
			}
		}
		close(start)
		wg.Wait()
		for s, rs := range results {
			stored, err := pools[0].KeyStore().Get(context.Background(), dataward.SubjectID(fmt.Sprintf("subject-%03d", s)))
			require.NoError(t, err)
			for caller, r := range rs {
				require.NoError(t, r.err, "subject %d caller %d", s, caller)
				require.Equal(t, normalize(stored), normalize(r.rec), "subject %d caller %d", s, caller)
			}
		}
	})
}

// TestSQLiteShredLeavesNoKeyBytes checks that a shredded key is gone from
// every file of the database, not only from query results.
func TestSQLiteShredLeavesNoKeyBytes(t *testing.T) {
	dir := t.TempDir()
	db := open(t, "sqlite:"+filepath.Join(dir, "keys.db"))
	ks := db.KeyStore()
	ctx := context.Background()

	secret := make([]byte, 48)
	_, _ = rand.Read(secret)
	for i := range 20 { // neighbours on the same page
		_, err := ks.Create(ctx, pii.KeyRecord{Subject: dataward.SubjectID(fmt.Sprint("other-", i)), KeyID: 1, Wrapped: bytes.Repeat([]byte{byte(i)}, 48), Created: t0})
		require.NoError(t, err)
	}
	_, err := ks.Create(ctx, pii.KeyRecord{Subject: "victim", KeyID: 1, Wrapped: secret, Created: t0})
	require.NoError(t, err)
	require.True(t, filesContain(t, dir, secret[:16]), "the test must see the key on disk before the shred")

	_, err = ks.Shred(ctx, "victim", t0)
	require.NoError(t, err)
	require.False(t, filesContain(t, dir, secret[:16]), "key bytes remain on disk after Shred")

	// The neighbours are intact.
	got, err := ks.Get(ctx, "other-7")
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{7}, 48), got.Wrapped)
}

func filesContain(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(data, needle) {
			t.Logf("found in %s", e.Name())
			return true
		}
	}
	return false
}
