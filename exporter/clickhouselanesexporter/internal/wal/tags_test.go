package wal

import (
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func appendTagged(t testing.TB, l *Log, i, size int) Index {
	t.Helper()
	x, err := l.AppendTagged(payload(i, size), uint32(i))
	require.NoError(t, err)
	return x
}

func tagIndexes(tags []Tagged) []Index {
	var out []Index
	for _, t := range tags {
		out = append(out, t.Index)
	}
	return out
}

// TestTagsAreOnlyOfRecordsAppendedSinceOpen: records found at Open must be read; those
// appended since are told from memory, with their lengths and tags.
func TestTagsAreOnlyOfRecordsAppendedSinceOpen(t *testing.T) {
	dir := t.TempDir()
	closedLogWith(t, dir, 3, 100)
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	for i := range 3 {
		appendTagged(t, l, 10+i, 50+i)
	}
	assert.Empty(t, l.Tags(nil, 1, 10), "a record found at Open")
	assert.Empty(t, l.Tags(nil, 3, 10))
	assert.Equal(t, []Tagged{{4, 50, 10}, {5, 51, 11}, {6, 52, 12}}, l.Tags(nil, 4, 10))
	assert.Equal(t, []Tagged{{5, 51, 11}}, l.Tags(nil, 5, 1))
	assert.Empty(t, l.Tags(nil, 7, 10), "nothing yet")
}

func TestTagsForgetWhatIsCommitted(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	for i := range 5 {
		appendTagged(t, l, i, 10)
	}
	require.NoError(t, l.SaveState(State{Committed: 3}))
	assert.Empty(t, l.Tags(nil, 2, 10))
	assert.Equal(t, []Index{4, 5}, tagIndexes(l.Tags(nil, 4, 10)))
	require.NoError(t, l.SaveState(State{Committed: 5}))
	assert.Empty(t, l.Tags(nil, 5, 10))
	appendTagged(t, l, 6, 10)
	assert.Equal(t, []Index{6}, tagIndexes(l.Tags(nil, 6, 10)))
}

// TestTagsLeaveNoRecordOut: an untagged record, or more than the log remembers, ends the
// run told from memory (the rest is read); once the run is committed, new records are
// remembered again.
func TestTagsLeaveNoRecordOut(t *testing.T) {
	t.Run("untagged", func(t *testing.T) {
		l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
		appendTagged(t, l, 1, 10)
		appendTagged(t, l, 2, 10)
		appendN(t, l, 3, 1, 10)
		appendTagged(t, l, 4, 10)
		assert.Equal(t, []Index{1, 2}, tagIndexes(l.Tags(nil, 1, 10)))
		assert.Empty(t, l.Tags(nil, 3, 10))
		assert.Empty(t, l.Tags(nil, 4, 10), "remembering 4 would leave 3 out")
		require.NoError(t, l.SaveState(State{Committed: 2}))
		appendTagged(t, l, 5, 10)
		assert.Empty(t, l.Tags(nil, 3, 10))
		assert.Equal(t, []Index{5}, tagIndexes(l.Tags(nil, 5, 10)))
	})
	t.Run("full", func(t *testing.T) {
		l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
		for i := range maxTags + 2 {
			appendTagged(t, l, i, 1)
		}
		tags := l.Tags(nil, 1, 2*maxTags)
		require.Len(t, tags, maxTags)
		assert.Equal(t, Index(maxTags), tags[len(tags)-1].Index)
		assert.Empty(t, l.Tags(nil, maxTags+1, 10))
		require.NoError(t, l.SaveState(State{Committed: maxTags}))
		assert.Empty(t, l.Tags(nil, maxTags+1, 10), "not remembered: read")
		x := appendTagged(t, l, 0, 1)
		assert.Equal(t, []Index{x}, tagIndexes(l.Tags(nil, x, 10)))
	})
}

// TestTagsSkipNoIndexAFailedWriteBurnt: after a failed write, whose indexes are never
// records, the run told from memory ends rather than claim them.
func TestTagsSkipNoIndexAFailedWriteBurnt(t *testing.T) {
	var failWrite, failSync atomic.Bool
	o := Options{Sync: SyncNever}
	o.wrapFile = func(f segmentFile) segmentFile {
		return faultyFile{segmentFile: f, failWrite: &failWrite, failSync: &failSync, writeErr: syscall.EIO}
	}
	l, _ := openLog(t, t.TempDir(), o)
	appendTagged(t, l, 1, 10)
	failWrite.Store(true)
	_, err := l.AppendTagged(payload(2, 10), 2)
	require.ErrorIs(t, err, syscall.EIO)
	x := appendTagged(t, l, 3, 10)
	require.Equal(t, Index(3), x)
	assert.Equal(t, []Index{1}, tagIndexes(l.Tags(nil, 1, 10)))
	assert.Empty(t, l.Tags(nil, 2, 10))
	assert.Empty(t, l.Tags(nil, 3, 10))
}

// TestTagsAgreeWithRead: while appenders append, whatever Tags tells from an index is what
// Read finds there, record for record.
func TestTagsAgreeWithRead(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{SegmentBytes: 4 << 10})
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				_, err := l.AppendTagged(payload(n, 20+n%50), uint32(n))
				assert.NoError(t, err)
			}
		})
	}
	compare := func() {
		for from := Index(1); from <= l.Stats().LastIndex; from++ {
			tags := l.Tags(nil, from, 1000)
			recs := readAll(t, l, from)
			require.LessOrEqual(t, len(tags), len(recs))
			for i, tg := range tags {
				require.Equal(t, recs[i].Index, tg.Index)
				require.Len(t, recs[i].Payload, tg.Bytes)
				require.Equal(t, payload(int(tg.Tag), tg.Bytes), recs[i].Payload)
			}
		}
	}
	for range 5 {
		compare()
	}
	wg.Wait()
	compare()
	assert.Len(t, l.Tags(nil, 1, 1000), writers*each, "all remembered")
}
