package wal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedLogWith writes n records of size bytes into a new log in dir,
// closes it and returns the path of its (only) segment.
func closedLogWith(t *testing.T, dir string, n, size int) string {
	t.Helper()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, n, size)
	require.NoError(t, l.Close())
	return segmentPath(dir, 1)
}

func TestTornTailIsTruncatedCountedAndTheLogGoesOn(t *testing.T) {
	for name, tear := range map[string]func(t *testing.T, path string) int64{
		"cut mid-record": func(t *testing.T, path string) int64 {
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, info.Size()-30))
			return recordSize(100) - 30
		},
		"garbage after the last record": func(t *testing.T, path string) int64 {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte("this is not a record, just some garbage bytes"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			return 45
		},
		"zeros after the last record": func(t *testing.T, path string) int64 {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write(make([]byte, 4096))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			return 4096
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := closedLogWith(t, dir, 5, 100)
			torn := tear(t, path)
			kept := 5
			if name == "cut mid-record" {
				kept = 4
			}

			l, rec := openLog(t, dir, Options{Sync: SyncNever})
			assert.Equal(t, Recovery{Records: kept, TornTailBytes: torn}, rec)
			info, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, int64(kept)*recordSize(100), info.Size())

			appendN(t, l, 10, 1, 100)
			recs := readAll(t, l, 1)
			assert.Len(t, recs, kept+1)
			assert.Equal(t, payload(10, 100), recs[kept].Payload)
			require.NoError(t, l.Close())
			_, rec = openLog(t, dir, Options{Sync: SyncNever})
			assert.Equal(t, Recovery{Records: kept + 1}, rec)
		})
	}
}

func TestDamagedMiddleRecordIsSkippedAndCounted(t *testing.T) {
	for name, offset := range map[string]int64{
		"payload byte": 2*recordSize(100) + headerSize + 50,
		"length field": 2*recordSize(100) + 5,
		"index field":  2*recordSize(100) + 9,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := closedLogWith(t, dir, 5, 100)
			flipByte(t, path, offset)

			l, rec := openLog(t, dir, Options{Sync: SyncNever})
			assert.Equal(t, Recovery{Records: 4, DamagedRecords: 1}, rec)
			recs := readAll(t, l, 1)
			assert.Equal(t, []Index{1, 2, 4, 5}, indexes(recs))
			assert.Equal(t, payload(4, 100), recs[3].Payload)
			// Reading across the damage again does not count it again.
			readAll(t, l, 1)
			assert.Equal(t, int64(1), l.Stats().Damaged)
		})
	}
}

func TestDamageFoundByReadIsSkippedAndCountedOnce(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, 5, 100)
	flipByte(t, segmentPath(dir, 1), recordSize(100)+headerSize)
	assert.Equal(t, []Index{1, 3, 4, 5}, indexes(readAll(t, l, 1)))
	assert.Equal(t, []Index{3, 4, 5}, indexes(readAll(t, l, 2)))
	assert.Equal(t, int64(1), l.Stats().Damaged)
}

func TestDamagedTailOfAnOlderSegmentIsDamageNotATornTail(t *testing.T) {
	dir := t.TempDir()
	size := recordSize(100)
	l, _ := openLog(t, dir, Options{SegmentBytes: 2 * size, Sync: SyncNever})
	appendN(t, l, 0, 4, 100)
	require.NoError(t, l.Close())
	flipByte(t, segmentPath(dir, 1), size+headerSize)

	l, rec := openLog(t, dir, Options{SegmentBytes: 2 * size, Sync: SyncNever})
	assert.Equal(t, Recovery{Records: 3, DamagedRecords: 1}, rec)
	assert.Equal(t, []Index{1, 3, 4}, indexes(readAll(t, l, 1)))
	assert.Equal(t, int64(1), l.Stats().Damaged)
}

func TestDamagedStateFileReplaysEverything(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, 3, 10)
	require.NoError(t, l.SaveState(State{Committed: 2})) // sequence 1, slot 1
	require.NoError(t, l.Close())
	flipByte(t, filepath.Join(dir, stateFileName), stateSlotSize+20)

	l, rec := openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, Recovery{Records: 3, StateDamaged: true}, rec)
	require.NoError(t, l.SaveState(State{Committed: 1}), "the state file is usable again")
}

func TestAStateSaveCutOffByACrashLeavesThePreviousState(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, 5, 10)
	require.NoError(t, l.SaveState(State{Committed: 1, PendingFirst: 2, PendingLast: 3})) // slot 1
	require.NoError(t, l.SaveState(State{Committed: 3}))                                  // slot 0
	require.NoError(t, l.SaveState(State{Committed: 3, PendingFirst: 4, PendingLast: 5})) // slot 1
	require.NoError(t, l.Close())
	flipByte(t, filepath.Join(dir, stateFileName), stateSlotSize+30) // the newest, torn

	l, rec := openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, Recovery{Records: 2, State: State{Committed: 3}}, rec)
	// The next save goes on from the surviving slot's sequence.
	require.NoError(t, l.SaveState(State{Committed: 4}))
	require.NoError(t, l.Close())
	_, rec = openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, State{Committed: 4}, rec.State)
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

func TestIndexesContinueAtLeastFromTheLastSegmentsName(t *testing.T) {
	// A failed Append burnt index 6, the next write rolled to a new segment
	// 7 and the machine died before its fsync: segment 7 is empty.
	dir := t.TempDir()
	closedLogWith(t, dir, 5, 10)
	require.NoError(t, os.WriteFile(segmentPath(dir, 7), nil, 0o644))

	l, rec := openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, Recovery{Records: 5}, rec)
	assert.Equal(t, Index(5), l.Stats().LastIndex, "the last record, not the empty segment's name")
	assert.Equal(t, []Index{7}, appendN(t, l, 7, 1, 10))
	require.NoError(t, l.Close())
	l, rec = openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, Recovery{Records: 6}, rec)
	assert.Equal(t, []Index{1, 2, 3, 4, 5, 7}, indexes(readAll(t, l, 1)))
}
