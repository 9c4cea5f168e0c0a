package wal

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadIntoReadsWhatReadReads: reading a log through one reused buffer (records of
// mixed sizes, some larger than a chunk, one damaged) finds the same records as Read.
func TestReadIntoReadsWhatReadReads(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever, SegmentBytes: 16 << 10})
	for i := range 60 {
		_, err := l.Append(payload(i, 10+(i*397)%3000))
		require.NoError(t, err)
	}
	flipByte(t, segmentPath(dir, 1), recordSize(10)+headerSize) // record 2
	want := readAll(t, l, 1)
	require.Len(t, want, 59)

	var buf ReadBuffer
	var got []Record
	for from := Index(1); ; {
		recs, err := l.ReadInto(&buf, from, 2000)
		require.NoError(t, err)
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			r.Payload = bytes.Clone(r.Payload) // valid only until the next ReadInto
			got = append(got, r)
		}
		from = recs[len(recs)-1].Index + 1
	}
	assert.Equal(t, want, got)
	assert.Equal(t, int64(1), l.Stats().Damaged, "counted once")
}

// TestReadIntoDoesNotAllocatePerRecord: once its buffer has grown, a reused ReadBuffer
// reads a chunk with a few allocations (the segment file's), whatever the records in it.
func TestReadIntoDoesNotAllocatePerRecord(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	appendN(t, l, 0, 200, 500)
	var buf ReadBuffer
	read := func() {
		recs, err := l.ReadInto(&buf, 1, 1<<20)
		require.NoError(t, err)
		require.Len(t, recs, 200)
	}
	read()
	assert.Less(t, testing.AllocsPerRun(10, read), 20.0)
	assert.Equal(t, payload(199, 500), buf.recs[199].Payload)
}

// TestReadPayloadsDoNotOverlap: payloads sharing Read's buffer cannot grow into each other.
func TestReadPayloadsDoNotOverlap(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	appendN(t, l, 0, 3, 10)
	recs, err := l.Read(1, 1<<20)
	require.NoError(t, err)
	_ = append(recs[0].Payload, 'x')
	assert.Equal(t, payload(1, 10), recs[1].Payload)
}
