package wal

import (
	"bytes"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendThenReadReturnsRecordsInOrder(t *testing.T) {
	now := time.Unix(1700000000, 123).UTC()
	l, rec := openLog(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	assert.Equal(t, Recovery{}, rec)
	idx := appendN(t, l, 0, 5, 100)
	assert.Equal(t, []Index{1, 2, 3, 4, 5}, idx)

	recs, err := l.Read(3, 1<<20)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, Index(3), recs[0].Index)
	assert.Equal(t, payload(2, 100), recs[0].Payload)
	assert.True(t, now.Equal(recs[0].Time))

	st := l.Stats()
	assert.Equal(t, Index(5), st.LastIndex)
	assert.Equal(t, int64(5*recordSize(100)), st.Bytes)
	assert.True(t, now.Equal(st.FirstUnsent))
}

func TestReadStopsAtMaxBytesButReturnsAtLeastOne(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	appendN(t, l, 0, 10, 1000)
	recs, err := l.Read(1, 2500)
	require.NoError(t, err)
	assert.Equal(t, []Index{1, 2}, indexes(recs))
	recs, err = l.Read(3, 10)
	require.NoError(t, err)
	assert.Equal(t, []Index{3}, indexes(recs))
	// The retry of a batch and the next batch both start from a hint; a
	// jump back starts from the segment again. All agree.
	for _, from := range []Index{3, 4, 1, 10, 11} {
		recs, err = l.Read(from, 1)
		require.NoError(t, err)
		if from == 11 {
			assert.Empty(t, recs)
			continue
		}
		assert.Equal(t, []Index{from}, indexes(recs))
	}
}

func TestRecordsSpanSegments(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{SegmentBytes: 3 * recordSize(100), Sync: SyncNever})
	appendN(t, l, 0, 10, 100)
	assert.Equal(t, int64(4), l.Stats().Segments)
	assert.Len(t, readAll(t, l, 1), 10)
	recs, err := l.Read(5, 150)
	require.NoError(t, err)
	assert.Equal(t, []Index{5}, indexes(recs))
}

func TestReopenReturnsEverythingNotCommitted(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentBytes: 4 * recordSize(50)}
	l, _ := openLog(t, dir, o)
	appendN(t, l, 0, 10, 50)
	require.NoError(t, l.SaveState(State{Committed: 6, PendingFirst: 7, PendingLast: 9}))
	require.NoError(t, l.Close())

	l, rec := openLog(t, dir, o)
	assert.Equal(t, Recovery{Records: 4, State: State{Committed: 6, PendingFirst: 7, PendingLast: 9}}, rec)
	recs := readAll(t, l, 7)
	assert.Equal(t, []Index{7, 8, 9, 10}, indexes(recs))
	assert.Equal(t, payload(9, 50), recs[3].Payload)
	// New records continue the numbering.
	assert.Equal(t, []Index{11}, appendN(t, l, 10, 1, 50))
}

func TestGroupCommitSharesFsyncs(t *testing.T) {
	var syncs atomic.Int64
	l, _ := openLog(t, t.TempDir(), Options{OnSync: func(time.Duration, int) { syncs.Add(1) }})
	const writers, each = 32, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { appendN(t, l, w*each, each, 8<<10) })
	}
	wg.Wait()
	// Every Append is durable, so with one fsync each there would be
	// writers*each; sharing makes far fewer. Half is a bound a busy machine
	// cannot break (32 writers always overlap at least pairwise).
	t.Logf("%d appends, %d fsyncs", writers*each, syncs.Load())
	assert.Less(t, syncs.Load(), int64(writers*each/2))
	assert.Len(t, readAll(t, l, 1), writers*each)
}

func TestSaveStateDeletesCommittedSegmentsAndReleasesBudget(t *testing.T) {
	dir := t.TempDir()
	budget := NewBudget(0)
	size := recordSize(100)
	l, _ := openLog(t, dir, Options{SegmentBytes: 2 * size, Budget: budget, Sync: SyncNever})
	appendN(t, l, 0, 6, 100) // segments 1-2, 3-4, 5-6
	assert.Equal(t, 6*size, budget.Used())

	require.NoError(t, l.SaveState(State{Committed: 3}))
	assert.Equal(t, []string{"00000000000000000003.seg", "00000000000000000005.seg", "ID", "STATE"}, dirNames(t, dir))
	assert.Equal(t, 4*size, budget.Used())
	assert.Equal(t, int64(2), l.Stats().Segments)

	require.NoError(t, l.SaveState(State{Committed: 6}))
	assert.Equal(t, []string{"ID", "STATE"}, dirNames(t, dir))
	assert.Zero(t, budget.Used())
	st := l.Stats()
	assert.Zero(t, st.Bytes)
	assert.True(t, st.FirstUnsent.IsZero())

	// The log goes on in a new segment.
	assert.Equal(t, []Index{7}, appendN(t, l, 6, 1, 100))
	assert.Equal(t, []Index{7}, indexes(readAll(t, l, 1)))
	require.NoError(t, l.Close())
	assert.Zero(t, budget.Used(), "Close releases the log's bytes")
}

func TestSaveStateRefusesACursorGoingBackOrPastTheEnd(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	appendN(t, l, 0, 3, 10)
	require.NoError(t, l.SaveState(State{Committed: 2}))
	require.Error(t, l.SaveState(State{Committed: 1}))
	require.Error(t, l.SaveState(State{Committed: 4}))
	require.Error(t, l.SaveState(State{Committed: 2, PendingFirst: 3, PendingLast: 4}))
}

func TestFirstUnsentFollowsTheCommittedCursor(t *testing.T) {
	clock := time.Unix(1000, 0)
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever, Now: func() time.Time { return clock }})
	appendN(t, l, 0, 1, 10)
	clock = clock.Add(time.Second)
	appendN(t, l, 1, 1, 10)
	require.NoError(t, l.SaveState(State{Committed: 1}))
	assert.Equal(t, int64(1001), l.Stats().FirstUnsent.Unix())
}

func TestAppendAfterCloseFails(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{})
	require.NoError(t, l.Close())
	_, err := l.Append([]byte("x"))
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.Read(1, 1)
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, l.Close())
}

func TestAppendedSignalsAfterAppend(t *testing.T) {
	l, _ := openLog(t, t.TempDir(), Options{Sync: SyncNever})
	select {
	case <-l.Appended():
		t.Fatal("signalled before any Append")
	default:
	}
	appendN(t, l, 0, 3, 10)
	<-l.Appended() // one signal stands for all three
	select {
	case <-l.Appended():
		t.Fatal("more than one pending signal")
	default:
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// With OnRecover, Open hands out every record left on disk, committed ones in a segment not
// wholly committed included, exactly as reading the log from the start afterwards would.
func TestOpenHandsOutTheRecordsItScans(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentBytes: 2 * recordSize(100), Sync: SyncNever}
	l, _ := openLog(t, dir, o)
	appendN(t, l, 0, 6, 100) // segments 1-2, 3-4, 5-6
	require.NoError(t, l.SaveState(State{Committed: 3}))
	require.NoError(t, l.Close())

	var scanned []Record
	o.OnRecover = func(r Record) {
		r.Payload = bytes.Clone(r.Payload) // valid only during the call
		scanned = append(scanned, r)
	}
	l, _ = openLog(t, dir, o)
	assert.Equal(t, []Index{3, 4, 5, 6}, indexes(scanned))
	assert.Equal(t, readAll(t, l, 1), scanned)
}
