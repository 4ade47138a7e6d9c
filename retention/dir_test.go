package retention_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/retention"
)

// TestDirTargetFileNameWithDots: a file whose name merely contains ".."
// ("backup..log", "notes...log") is inside the directory and is disposed
// of like any other, instead of failing the sweep of the data set on every
// run (and so keeping it and every later file for ever).
func TestDirTargetFileNameWithDots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := now0.Add(-10 * 24 * time.Hour)
	for _, name := range []string{"a..log", "b.log"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("log"), 0o600))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	target, err := retention.NewDirTarget(dir, "*.log")
	require.NoError(t, err)
	sw, err := retention.New(retention.NewMemStore(), schedule(policy("logs", "3 days", retention.SinceCreated, retention.Delete)),
		map[string]retention.Target{"logs": target}, &retention.Options{Clock: &clock{t: now0}})
	require.NoError(t, err)
	rep, err := sw.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a..log", "b.log"}, rep.Policies[0].Disposed)
	assert.NoFileExists(t, filepath.Join(dir, "a..log"))
	assert.NoFileExists(t, filepath.Join(dir, "b.log"))

	// A record ID that does leave the directory is still refused.
	_, err = target.Dispose(ctx, retention.Batch{Dataset: "logs", Action: retention.Delete,
		Query: retention.Query{All: true}, Records: []retention.Candidate{{ID: "../x.log"}}})
	require.Error(t, err)
	_, err = target.Dispose(ctx, retention.Batch{Dataset: "logs", Action: retention.Delete,
		Query: retention.Query{All: true}, Records: []retention.Candidate{{ID: "sub/../../x.log"}}})
	require.Error(t, err)
}
