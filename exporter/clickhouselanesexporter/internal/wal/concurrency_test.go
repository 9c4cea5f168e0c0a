package wal

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A drain worker reads and commits while appenders append and segments roll
// and are deleted under both: every record is read exactly once.
func TestDrainingWhileAppendingReadsEveryRecordOnce(t *testing.T) {
	budget := NewBudget(0)
	l, _ := openLog(t, t.TempDir(), Options{SegmentBytes: 4 << 10, Budget: budget})
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { appendN(t, l, w*each, each, 300) })
	}
	appendsDone := make(chan struct{})
	go func() { wg.Wait(); close(appendsDone) }()

	seen := map[Index]bool{}
	var committed Index
	drain := func() {
		for {
			recs, err := l.Read(committed+1, 2<<10)
			require.NoError(t, err)
			if len(recs) == 0 {
				return
			}
			for _, r := range recs {
				require.False(t, seen[r.Index], "record %d read twice", r.Index)
				seen[r.Index] = true
			}
			committed = recs[len(recs)-1].Index
			require.NoError(t, l.SaveState(State{Committed: committed}))
		}
	}
	for done := false; !done; {
		select {
		case <-l.Appended():
		case <-appendsDone:
			done = true
		}
		drain()
	}
	drain()
	assert.Len(t, seen, writers*each)
	assert.Zero(t, budget.Used(), "everything committed, every segment deleted")
}

// While one write waits for its fsync, every Append that arrives joins the
// next batch, which is written with one more fsync: no Append waits for more
// than the write in progress and its own.
func TestAppendsDuringAWriteShareTheNextOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var batches []int
		onSync := func(_ time.Duration, bytes int) {
			mu.Lock()
			batches = append(batches, bytes)
			first := len(batches) == 1
			mu.Unlock()
			if first {
				<-release // hold the first write's leader
			}
		}
		l, _, err := Open(t.TempDir(), Options{OnSync: onSync})
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Go(func() { appendN(t, l, 0, 1, 100) })
		synctest.Wait() // the leader is in its fsync hook
		const waiting = 10
		for i := range waiting {
			wg.Go(func() { appendN(t, l, i+1, 1, 100) })
		}
		synctest.Wait() // all ten are waiting
		close(release)
		wg.Wait()
		assert.Equal(t, []int{int(recordSize(100)), waiting * int(recordSize(100))}, batches)
		require.NoError(t, l.Close())
	})
}

func TestIndexesContinueAfterEveryRecordWasCommittedAndDeleted(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Sync: SyncNever})
	appendN(t, l, 0, 5, 10)
	require.NoError(t, l.SaveState(State{Committed: 5}))
	require.NoError(t, l.Close())
	assert.Equal(t, []string{"ID", "STATE"}, dirNames(t, dir))

	l, rec := openLog(t, dir, Options{Sync: SyncNever})
	assert.Equal(t, Recovery{State: State{Committed: 5}}, rec)
	assert.Equal(t, []Index{6}, appendN(t, l, 5, 1, 10), "the state remembers where the indexes were")
}
