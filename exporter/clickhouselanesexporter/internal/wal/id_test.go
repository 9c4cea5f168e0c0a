package wal

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A log keeps its id across reopens; a directory deleted and created again gets a new one,
// though its records are numbered from 1 again.
func TestIDKeptAcrossReopenNewForARecreatedDirectory(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	first := l.ID()
	assert.Len(t, first, 32)
	appendN(t, l, 0, 3, 10)
	require.NoError(t, l.Close())

	l, _ = openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, first, l.ID(), "reopened")
	require.NoError(t, l.Close())

	require.NoError(t, os.RemoveAll(dir))
	l, _ = openLog(t, dir, Options{Sync: SyncNever})
	assert.NotEqual(t, first, l.ID(), "recreated")
	assert.Equal(t, []Index{1}, appendN(t, l, 0, 1, 10), "numbering starts again")
}

// A damaged id file is replaced by a new id, never a guessed old one.
func TestDamagedIDIsReplaced(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	first := l.ID()
	require.NoError(t, l.Close())
	require.NoError(t, os.WriteFile(dir+"/"+idFileName, []byte("zz"), 0o644))
	l, _ = openLog(t, dir, Options{Sync: SyncNever})
	assert.NotEqual(t, first, l.ID())
	assert.True(t, validID(l.ID()))
}
