package queue

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testConfig = Config{MaxRows: 100, MaxBytes: 1000, FlushRows: 50, FlushAge: time.Second}

func item(rows, bytes int) Item[int] { return Item[int]{Rows: rows, Bytes: bytes} }

func rowsOf(batch []Item[int]) (n int) {
	for _, it := range batch {
		n += it.Rows
	}
	return n
}

func TestOfferNeverExceedsLimitsUnderConcurrentOffers(t *testing.T) {
	budget := NewBudget(1500)
	queues := []*Queue[int]{NewQueue[int](testConfig, budget), NewQueue[int](testConfig, budget)}
	var offered, accepted atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	var consumers sync.WaitGroup
	for _, q := range queues {
		consumers.Go(func() {
			var batch []Item[int]
			for {
				var err error
				if batch, err = q.Take(ctx, batch[:0]); err != nil {
					return
				}
				q.Complete(batch, nil)
			}
		})
	}
	var producers sync.WaitGroup
	for p := range 8 {
		producers.Go(func() {
			q := queues[p%2]
			for range 2000 {
				offered.Add(1)
				if q.Offer(item(1+rand.IntN(20), 1+rand.IntN(200))) == nil {
					accepted.Add(1)
				}
				s := q.Stats()
				assert.LessOrEqual(t, s.Rows, testConfig.MaxRows)
				assert.LessOrEqual(t, s.Bytes, testConfig.MaxBytes)
				assert.LessOrEqual(t, budget.Used(), budget.Limit())
			}
		})
	}
	producers.Wait()
	cancel()
	consumers.Wait()
	t.Logf("accepted %d of %d offers", accepted.Load(), offered.Load())
	assert.Positive(t, accepted.Load())
}

func TestRefusalIsImmediateAndLeavesQueueUnchanged(t *testing.T) {
	budget := NewBudget(10_000)
	q := NewQueue[int](testConfig, budget)
	require.NoError(t, q.Offer(item(90, 900)))
	before, used := q.Stats(), budget.Used()

	called := false
	refused := Item[int]{Rows: 11, Bytes: 1, Done: func(error) { called = true }}
	require.ErrorIs(t, q.Offer(refused), ErrQueueFull, "rows over the limit")
	refused.Rows, refused.Bytes = 1, 101
	require.ErrorIs(t, q.Offer(refused), ErrQueueFull, "bytes over the limit")

	assert.Equal(t, before, q.Stats())
	assert.Equal(t, used, budget.Used())
	assert.False(t, called, "a refused item stays with the caller")
	require.NoError(t, q.Offer(item(10, 100)), "exactly at the limit fits")
}

func TestItemLargerThanTheQueueIsTooLarge(t *testing.T) {
	q := NewQueue[int](testConfig, nil)
	assert.ErrorIs(t, q.Offer(item(101, 1)), ErrTooLarge)
	assert.ErrorIs(t, q.Offer(item(1, 1001)), ErrTooLarge)
	assert.Panics(t, func() { _ = q.Offer(item(-1, 0)) })
}

func TestBudgetIsSharedAcrossQueues(t *testing.T) {
	budget := NewBudget(1000)
	a, b := NewQueue[int](testConfig, budget), NewQueue[int](testConfig, budget)
	require.NoError(t, a.Offer(item(1, 700)))
	require.ErrorIs(t, b.Offer(item(1, 400)), ErrBudget, "b's own limits allow it; the budget does not")
	assert.Equal(t, Stats{}, b.Stats())
	require.NoError(t, b.Offer(item(1, 300)))

	// The budget stays held while a's batch is in flight, and is freed by Complete.
	a.Close()
	batch, err := a.Take(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, Stats{}, a.Stats())
	require.ErrorIs(t, b.Offer(item(1, 1)), ErrBudget, "taken but not completed still counts")
	a.Complete(batch, nil)
	assert.EqualValues(t, 300, budget.Used())
	require.NoError(t, b.Offer(item(1, 700)))
}

func TestFlushOnSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](testConfig, nil)
		start := time.Now()
		var batch []Item[int]
		var err error
		took := make(chan struct{})
		go func() {
			batch, err = q.Take(t.Context(), nil)
			close(took)
		}()
		require.NoError(t, q.Offer(item(30, 1)))
		synctest.Wait() // the consumer is waiting for 20 more rows or the age
		select {
		case <-took:
			t.Fatal("Take returned before size or age")
		default:
		}
		require.NoError(t, q.Offer(item(20, 1)))
		require.NoError(t, q.Offer(item(20, 1)))
		<-took
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "no waiting for the age")
		assert.LessOrEqual(t, rowsOf(batch), testConfig.FlushRows)
		assert.Equal(t, 50, rowsOf(batch))
	})
}

func TestBatchNeverExceedsFlushRowsExceptASingleLargeItem(t *testing.T) {
	q := NewQueue[int](testConfig, nil)
	for _, r := range []int{30, 30, 30} {
		require.NoError(t, q.Offer(item(r, 1)))
	}
	batch, err := q.Take(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, 30, rowsOf(batch), "the second item would overflow FlushRows")
	assert.Equal(t, Stats{Items: 2, Rows: 60, Bytes: 2}, q.Stats())

	q2 := NewQueue[int](testConfig, nil)
	require.NoError(t, q2.Offer(item(80, 1)))
	batch, err = q2.Take(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, 80, rowsOf(batch), "an item larger than a batch goes alone")
}

func TestFlushOnAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](testConfig, nil)
		start := time.Now()
		go func() {
			time.Sleep(300 * time.Millisecond)
			assert.NoError(t, q.Offer(item(1, 1)))
			time.Sleep(300 * time.Millisecond)
			assert.NoError(t, q.Offer(item(1, 1)))
		}()
		batch, err := q.Take(t.Context(), nil)
		require.NoError(t, err)
		assert.Equal(t, 300*time.Millisecond+testConfig.FlushAge, time.Since(start),
			"the oldest item waited exactly FlushAge")
		assert.Len(t, batch, 2)
	})
}

// TestFlushWhenQuiet: with FlushQuiet, a batch leaves once arrivals pause, long before
// FlushAge; arrivals that keep coming postpone it, but never past FlushAge.
func TestFlushWhenQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig
		cfg.FlushQuiet = 20 * time.Millisecond
		q := NewQueue[int](cfg, nil)
		start := time.Now()
		go func() {
			for range 3 {
				assert.NoError(t, q.Offer(item(1, 1)))
				time.Sleep(10 * time.Millisecond)
			}
		}()
		batch, err := q.Take(t.Context(), nil)
		require.NoError(t, err)
		assert.Len(t, batch, 3, "arrivals 10 ms apart belong to one batch")
		assert.Equal(t, 40*time.Millisecond, time.Since(start), "the batch left 20 ms after the last arrival")

		// A steady trickle never pauses for 20 ms: FlushAge still bounds the wait.
		ctx, cancel := context.WithCancel(t.Context())
		trickling := make(chan struct{})
		go func() {
			defer close(trickling)
			for ctx.Err() == nil {
				_ = q.Offer(item(0, 0))
				time.Sleep(10 * time.Millisecond)
			}
		}()
		start = time.Now()
		_, err = q.Take(t.Context(), batch[:0])
		require.NoError(t, err)
		assert.Equal(t, cfg.FlushAge, time.Since(start))
		cancel()
		<-trickling
	})
}

func TestCloseWakesAWaitingConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](testConfig, nil)
		errc := make(chan error)
		go func() {
			_, err := q.Take(t.Context(), nil)
			errc <- err
		}()
		synctest.Wait()
		q.Close()
		assert.ErrorIs(t, <-errc, ErrClosed)
		assert.ErrorIs(t, q.Offer(item(1, 1)), ErrClosed)
		q.Close() // idempotent
	})
}

func TestCloseDrainsRemainingItemsWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](testConfig, nil)
		for range 5 {
			require.NoError(t, q.Offer(item(20, 1)))
		}
		q.Close()
		start := time.Now()
		var got int
		var batch []Item[int]
		var err error
		for {
			if batch, err = q.Take(t.Context(), batch[:0]); err != nil {
				break
			}
			got += rowsOf(batch)
		}
		require.ErrorIs(t, err, ErrClosed)
		assert.Equal(t, 100, got)
		assert.Zero(t, time.Since(start))
	})
}

func TestTakeReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](testConfig, nil)
		require.NoError(t, q.Offer(item(1, 1)))
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		batch, err := q.Take(ctx, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Empty(t, batch)
		assert.Equal(t, 1, q.Stats().Items, "nothing was taken")
	})
}

func TestEveryDoneIsCalledExactlyOnce(t *testing.T) {
	budget := NewBudget(4000)
	q := NewQueue[int](testConfig, budget)
	const n = 5000
	var calls [n]atomic.Int32
	var failed atomic.Int32
	errInsert := errors.New("insert failed")

	// The consumer gives up after a while, as a worker does at the shutdown deadline, so
	// that items end in all three ways: committed, failed, and discarded.
	ctx, cancel := context.WithCancel(t.Context())
	var consumer sync.WaitGroup
	consumer.Go(func() {
		var batch []Item[int]
		for i := 0; i < 40; i++ {
			var err error
			if batch, err = q.Take(ctx, batch[:0]); err != nil {
				return
			}
			if i%3 == 0 {
				q.Complete(batch, errInsert)
			} else {
				q.Complete(batch, nil)
			}
		}
	})
	var producers sync.WaitGroup
	var accepted [n]bool
	for p := range 4 {
		producers.Go(func() {
			for i := p; i < n; i += 4 {
				it := Item[int]{Payload: i, Rows: 1 + i%7, Bytes: 10, Done: func(err error) {
					calls[i].Add(1)
					if err != nil {
						failed.Add(1)
					}
				}}
				accepted[i] = q.Offer(it) == nil
				if i%64 == 0 {
					runtime.Gosched() // let the consumer in between offers
				}
			}
		})
	}
	producers.Wait()
	cancel()
	consumer.Wait()
	q.Close()
	lost := q.Discard(context.Canceled)

	var nAccepted int
	for i := range n {
		want := int32(0)
		if accepted[i] {
			want = 1
			nAccepted++
		}
		require.Equal(t, want, calls[i].Load(), "item %d", i)
	}
	assert.Zero(t, budget.Used(), "every byte came back")
	assert.Equal(t, Stats{}, q.Stats())
	t.Logf("%d accepted: %d completed with an error, %d discarded", nAccepted, failed.Load(), lost.Items)
}

func TestDiscardReportsWhatCouldNotBeWritten(t *testing.T) {
	budget := NewBudget(1000)
	q := NewQueue[int](testConfig, budget)
	var errs []error
	for range 3 {
		require.NoError(t, q.Offer(Item[int]{Rows: 5, Bytes: 50, Done: func(err error) { errs = append(errs, err) }}))
	}
	assert.Equal(t, Stats{Items: 3, Rows: 15, Bytes: 150}, q.Discard(ErrClosed))
	assert.Equal(t, []error{ErrClosed, ErrClosed, ErrClosed}, errs)
	assert.Zero(t, budget.Used())
}

func TestInvalidConfigPanics(t *testing.T) {
	for _, c := range []Config{
		{},
		{MaxRows: 1, MaxBytes: 1, FlushRows: 2, FlushAge: time.Second},
		{MaxRows: 1, MaxBytes: 1, FlushRows: 1},
		{MaxRows: 1, FlushRows: 1, FlushAge: time.Second},
		{MaxRows: 1, MaxBytes: 1, FlushRows: 1, FlushAge: time.Second, FlushQuiet: -time.Second},
	} {
		assert.Error(t, c.Validate())
		assert.Panics(t, func() { NewQueue[int](c, nil) })
	}
	assert.NoError(t, testConfig.Validate())
}
