package wal

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallFileSystem mounts a tmpfs of 1 MiB for a test that needs a real full
// disk, or skips the test where mounting is not allowed.
func smallFileSystem(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a small tmpfs for a full file system (needs root): %v", err)
	}
	t.Cleanup(func() { require.NoError(t, syscall.Unmount(dir, 0)) })
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return path
		}
	}
}

func TestFullDiskRefusesWithErrNoSpaceAndTheLogStaysUsable(t *testing.T) {
	fsDir := smallFileSystem(t)
	dir := filepath.Join(fsDir, "lane")
	l, _ := openLog(t, dir, Options{})
	appendN(t, l, 0, 2, 1000)
	filler := fill(t, fsDir)

	_, err := l.Append(payload(2, 64<<10))
	require.ErrorIs(t, err, ErrNoSpace)
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, int64(2*recordSize(1000)), l.Stats().Bytes, "nothing of the failed record is counted")
	assert.Equal(t, []Index{1, 2}, indexes(readAll(t, l, 1)))

	require.NoError(t, os.Remove(filler))
	appendN(t, l, 3, 1, 64<<10)
	require.NoError(t, l.Close())
	l, rec := openLog(t, dir, Options{})
	assert.Equal(t, Recovery{Records: 3}, rec, "the failed write left no torn tail")
	assert.Equal(t, payload(3, 64<<10), readAll(t, l, 1)[2].Payload)
}

func TestLogThatFilledTheDiskCanStillCommitAndFreeIt(t *testing.T) {
	fsDir := smallFileSystem(t)
	l, _ := openLog(t, fsDir, Options{SegmentBytes: 64 << 10})
	appendN(t, l, 0, 1, 10)
	require.NoError(t, l.SaveState(State{}))
	var last Index
	for i := 0; ; i++ {
		idx, err := l.Append(payload(i, 8<<10))
		if err != nil {
			require.ErrorIs(t, err, ErrNoSpace)
			break
		}
		last = idx
	}
	require.Positive(t, last)
	fill(t, fsDir) // not a block left

	require.NoError(t, l.SaveState(State{Committed: last}), "saving the state needs no free block")
	assert.Zero(t, l.Stats().Segments)
	appendN(t, l, 0, 10, 8<<10)
}

func TestClassifyKnowsAFullDiskAndQuota(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		err := classify("append", &os.PathError{Op: "write", Path: "x", Err: errno})
		assert.ErrorIs(t, err, ErrNoSpace)
		assert.ErrorIs(t, err, errno)
	}
	err := classify("append", syscall.EIO)
	assert.False(t, errors.Is(err, ErrNoSpace))
	assert.NoError(t, classify("append", nil))
}
