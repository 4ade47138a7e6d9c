package audit_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

// An Origin that cannot be the first line of a checkpoint is refused by
// New: with it, every checkpoint the Logger signed would fail to open, and
// Verify would report an intact log as damaged.
func TestNewRefusesAnOriginThatBreaksCheckpoints(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.example.com")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	for _, origin := range []string{"audit.example.com\n42", "two\nlines", "bad\xff"} {
		store := audit.NewMemStore()
		l, err := audit.New(store, &audit.Options{HashKey: make([]byte, 32), Signer: signer, Origin: origin})
		var ve *dataward.ValidationError
		if assert.ErrorAs(t, err, &ve, "origin %q", origin) {
			assert.Contains(t, err.Error(), "Origin")
			continue
		}
		// What the Logger makes of it.
		require.NoError(t, l.Record(ctx, audit.Event{Action: "auth.login"}))
		c, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		_, _, _, err = audit.OpenCheckpoint(c.Note, vkey)
		t.Logf("origin %q: OpenCheckpoint of its checkpoint: %v", origin, err)
		_, err = audit.Verify(ctx, store, &audit.VerifyOptions{PublicKey: vkey})
		t.Logf("origin %q: Verify of the intact log: %v", origin, err)
	}
}
