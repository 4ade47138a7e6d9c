package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/sqlstore"
)

// When set, the test binary is a child of TestCreateRaceAcrossProcesses.
const childDSNEnv = "DATAWARD_SQLSTORE_TEST_CHILD_DSN"

const processSubjects = 200

// TestCreateRaceAcrossProcesses runs the test binary twice at once, as two
// processes of a host would run. Each opens the same fresh database
// (racing the migrations) and then, released at the same moment, creates
// the first key of the same subjects, each with a key of its own. Both
// must report the same key for every subject.
func TestCreateRaceAcrossProcesses(t *testing.T) {
	if dsn := os.Getenv(childDSNEnv); dsn != "" {
		createRaceChild(t, dsn)
		return
	}
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		out := raceChildren(ctx, t, "TestCreateRaceAcrossProcesses", 2, childDSNEnv+"="+dsn)
		reports := make([]map[string]string, len(out))
		for i, lines := range out {
			reports[i] = make(map[string]string)
			for _, line := range lines {
				if rest, ok := strings.CutPrefix(line, "KEY "); ok {
					if subject, key, ok := strings.Cut(rest, " "); ok {
						reports[i][subject] = key
					}
				}
			}
		}

		require.Len(t, reports[0], processSubjects)
		require.Equal(t, reports[0], reports[1], "the two processes saw different keys")

		db := open(t, dsn)
		for subject, key := range reports[0] {
			rec, err := db.KeyStore().Get(ctx, dataward.SubjectID(subject))
			require.NoError(t, err)
			require.Equal(t, formatKey(rec), key, subject)
		}
	})
}

func createRaceChild(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer db.Close()
	waitForRelease()

	var keyID [4]byte
	_, _ = rand.Read(keyID[:])
	rec := pii.KeyRecord{
		KeyID:   binary.BigEndian.Uint32(keyID[:]) | 1, // never 0
		Wrapped: make([]byte, 32),
		Created: time.Now(),
	}
	_, _ = rand.Read(rec.Wrapped)
	var out strings.Builder
	for i := range processSubjects {
		rec.Subject = dataward.SubjectID(fmt.Sprintf("subject-%03d", i))
		got, err := db.KeyStore().Create(ctx, rec)
		require.NoError(t, err)
		fmt.Fprintf(&out, "KEY %s %s\n", got.Subject, formatKey(got))
	}
	fmt.Print(out.String())
}

func formatKey(r pii.KeyRecord) string {
	return fmt.Sprintf("%d/%x/%d", r.KeyID, r.Wrapped, r.Created.UnixMicro())
}
