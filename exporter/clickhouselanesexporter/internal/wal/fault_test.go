package wal

import (
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultyFile fails the next write or the next fsync when told to. A failing
// write writes the first half of its bytes, which cuts a record of the
// batch in two, and returns writeErr: an error from the disk, or nil for a
// short write that reports no error.
type faultyFile struct {
	segmentFile
	failWrite, failSync *atomic.Bool
	writeErr            error
}

func (f faultyFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	if !f.failWrite.CompareAndSwap(true, false) {
		return f.segmentFile.WritevAt(bufs, off)
	}
	half := 0
	for _, b := range bufs {
		half += len(b)
	}
	half /= 2
	var firstHalf [][]byte
	for _, b := range bufs {
		if half == 0 {
			break
		}
		k := min(len(b), half)
		firstHalf = append(firstHalf, b[:k])
		half -= k
	}
	n, _ := f.segmentFile.WritevAt(firstHalf, off)
	return n, f.writeErr
}

func (f faultyFile) Sync() error {
	if f.failSync.CompareAndSwap(true, false) {
		return syscall.EIO
	}
	return f.segmentFile.Sync()
}

func TestAFailedWriteOrFsyncLeavesNothingBehindAndTheLogUsable(t *testing.T) {
	for _, failing := range []string{"write", "fsync"} {
		t.Run(failing, func(t *testing.T) {
			dir := t.TempDir()
			var failWrite, failSync atomic.Bool
			budget := NewBudget(0)
			o := Options{SegmentBytes: 3 * recordSize(100), Budget: budget}
			o.wrapFile = func(f segmentFile) segmentFile {
				return faultyFile{segmentFile: f, failWrite: &failWrite, failSync: &failSync, writeErr: syscall.EIO}
			}
			l, _ := openLog(t, dir, o)
			appendN(t, l, 0, 2, 100)
			for _, where := range []string{"in the active segment", "in a new segment"} {
				if failing == "write" {
					failWrite.Store(true)
				} else {
					failSync.Store(true)
				}
				_, err := l.Append(payload(99, 100))
				require.ErrorIs(t, err, syscall.EIO, where)
				require.NotErrorIs(t, err, ErrNoSpace)
				assert.Equal(t, l.Stats().Bytes, budget.Used(), "the failed record's bytes are released")
				appendN(t, l, 2, 1, 100)
			}
			require.NoError(t, l.Close())
			assert.Equal(t, []string{"00000000000000000001.seg", "00000000000000000006.seg", "ID", "STATE"}, dirNames(t, dir),
				"the segment the failed write started is gone")

			l, rec := openLog(t, dir, o)
			assert.Equal(t, Recovery{Records: 4}, rec, "no torn tail, no damage")
			recs := readAll(t, l, 1)
			assert.Equal(t, []Index{1, 2, 4, 6}, indexes(recs), "the failed Appends burnt their indexes")
			for _, r := range recs {
				assert.NotEqual(t, payload(99, 100), r.Payload)
			}
		})
	}
}
