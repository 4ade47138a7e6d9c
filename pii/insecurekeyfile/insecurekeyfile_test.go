package insecurekeyfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataward/dataward/pii/insecurekeyfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	_, err := insecurekeyfile.Load(path)
	require.ErrorIs(t, err, fs.ErrNotExist)

	a, err := insecurekeyfile.AEAD(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the key file is for its owner only")

	ct, err := a.Encrypt([]byte("dek"), []byte("ad"))
	require.NoError(t, err)
	b, err := insecurekeyfile.AEAD(path) // loads the same key
	require.NoError(t, err)
	pt, err := b.Decrypt(ct, []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "dek", string(pt))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestConcurrentCreateAgrees(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	const n = 8
	ids := make([]uint32, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h, err := insecurekeyfile.LoadOrCreate(path)
			if assert.NoError(t, err) {
				ids[i] = h.KeysetInfo().GetPrimaryKeyId()
			}
		})
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, ids[0], ids[i], "every creator must end with the same keyset")
	}
}

func TestRotateKeepsOldKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	old, err := insecurekeyfile.AEAD(path)
	require.NoError(t, err)
	ct, err := old.Encrypt([]byte("dek"), nil)
	require.NoError(t, err)
	id, err := insecurekeyfile.Rotate(path)
	require.NoError(t, err)
	h, err := insecurekeyfile.Load(path)
	require.NoError(t, err)
	assert.Equal(t, id, h.KeysetInfo().GetPrimaryKeyId())
	assert.Len(t, h.KeysetInfo().GetKeyInfo(), 2)
	rotated, err := insecurekeyfile.AEAD(path)
	require.NoError(t, err)
	pt, err := rotated.Decrypt(ct, nil)
	require.NoError(t, err, "values wrapped before the rotation still decrypt")
	assert.Equal(t, "dek", string(pt))
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte("not a keyset"), 0o600))
	_, err := insecurekeyfile.AEAD(garbage)
	assert.ErrorContains(t, err, "is not a clear-text Tink keyset")
	_, err = insecurekeyfile.Rotate(filepath.Join(dir, "missing.json"))
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	_, err = insecurekeyfile.AEAD(filepath.Join(dir, "no", "such", "dir", "kek.json"))
	assert.Error(t, err)
}
