package admission

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mustAcquire(t *testing.T, g *Gate, tenant string, n int64) func() {
	t.Helper()
	rel, r, err := g.Acquire(context.Background(), tenant, n)
	require.NoError(t, err)
	require.Equal(t, backpressure.ReasonNone, r)
	return rel
}

func refusal(t *testing.T, g *Gate, tenant string, n int64) backpressure.Reason {
	t.Helper()
	rel, r, err := g.Acquire(context.Background(), tenant, n)
	require.ErrorIs(t, err, ErrRefused)
	require.Nil(t, rel)
	return r
}

func TestRefusesBeyondRequestAndByteLimitsWithTheReason(t *testing.T) {
	g := New(Config{MaxRequests: 2, MaxBytes: 100})
	a := mustAcquire(t, g, "", 60)
	assert.Equal(t, backpressure.ReasonInflightBytes, refusal(t, g, "", 50))
	b := mustAcquire(t, g, "", 40)
	assert.Equal(t, backpressure.ReasonOverloaded, refusal(t, g, "", 0))
	a()
	b()
	assert.Equal(t, Stats{}, g.Stats())
}

func TestRequestLargerThanTheWholeLimitIsRefusedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxBytes: 100, MaxWaiting: 10, MaxWait: time.Hour})
		start := time.Now()
		assert.Equal(t, backpressure.ReasonTooLarge, refusal(t, g, "", 101))
		assert.Zero(t, time.Since(start), "must not wait")
		assert.Equal(t, Stats{}, g.Stats())
	})
}

func TestWaitersAreAdmittedInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 1, MaxWaiting: 10, MaxWait: time.Minute})
		hold := mustAcquire(t, g, "", 1)
		var order []int
		var mu sync.Mutex
		for i := range 5 {
			go func() {
				rel := mustAcquire(t, g, "", 1)
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				rel()
			}()
			synctest.Wait() // goroutine i is queued before i+1 starts
		}
		hold()
		synctest.Wait()
		assert.Equal(t, []int{0, 1, 2, 3, 4}, order)
	})
}

func TestLargeAcquireDoesntStarve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxBytes: 10, MaxWaiting: 10, MaxWait: time.Minute})
		small := mustAcquire(t, g, "", 2)
		var largeDone atomic.Bool
		go func() {
			rel := mustAcquire(t, g, "", 10)
			largeDone.Store(true)
			rel()
		}()
		synctest.Wait()
		// Room for a small request exists, but the large one queued first: the small one
		// waits behind it instead of overtaking it forever.
		smallDone := make(chan struct{})
		go func() {
			mustAcquire(t, g, "", 2)()
			close(smallDone)
		}()
		synctest.Wait()
		assert.False(t, largeDone.Load())
		assert.Equal(t, 2, g.Stats().Waiting)
		small()
		<-smallDone
		assert.True(t, largeDone.Load())
	})
}

func TestWaitIsBoundedInTimeAndRefusesWithTheBlockingReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxBytes: 10, MaxWaiting: 1, MaxWait: 3 * time.Second})
		hold := mustAcquire(t, g, "", 8)
		start := time.Now()
		assert.Equal(t, backpressure.ReasonInflightBytes, refusal(t, g, "", 5))
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.Equal(t, Stats{Requests: 1, Bytes: 8, Tenants: 1}, g.Stats())
		hold()
	})
}

func TestWaitQueueIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 1, MaxWaiting: 2, MaxWait: time.Minute})
		hold := mustAcquire(t, g, "", 0)
		for range 2 {
			go func() { mustAcquire(t, g, "", 0)() }()
		}
		synctest.Wait()
		start := time.Now()
		assert.Equal(t, backpressure.ReasonOverloaded, refusal(t, g, "", 0))
		assert.Zero(t, time.Since(start), "a full queue refuses at once")
		hold()
		synctest.Wait()
		assert.Equal(t, Stats{}, g.Stats())
	})
}

func TestCanceledWaiterLeavesTheGateUnchangedAndUnblocksTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxBytes: 10, MaxWaiting: 10, MaxWait: time.Minute})
		hold := mustAcquire(t, g, "", 5)
		ctx, cancel := context.WithCancel(context.Background())
		bigErr := make(chan error, 1)
		go func() { _, _, err := g.Acquire(ctx, "", 10); bigErr <- err }()
		synctest.Wait()
		smallDone := make(chan struct{})
		go func() { mustAcquire(t, g, "", 5)(); close(smallDone) }()
		synctest.Wait()
		cancel() // the head leaves; the small request behind it fits and must go through
		<-smallDone
		err := <-bigErr
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, ErrRefused)
		assert.ErrorIs(t, err, ErrGaveUp, "it waited")
		hold()
		assert.Equal(t, Stats{}, g.Stats())
	})
}

func TestTenantCannotExceedItsShareWhileOthersProceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 4, TenantShare: 0.5, MaxWaiting: 10, MaxWait: time.Minute})
		a1 := mustAcquire(t, g, "greedy", 0)
		a2 := mustAcquire(t, g, "greedy", 0)
		greedyDone := make(chan struct{})
		go func() { mustAcquire(t, g, "greedy", 0)(); close(greedyDone) }()
		synctest.Wait()
		// The greedy tenant's waiter is at the head, yet another tenant is admitted.
		other := mustAcquire(t, g, "quiet", 0)
		other()
		a1()
		<-greedyDone
		a2()
		assert.Equal(t, Stats{}, g.Stats())
	})
}

func TestTenantShareRefusesWithoutWaiting(t *testing.T) {
	g := New(Config{MaxRequests: 10, MaxBytes: 100, TenantShare: 0.3})
	rel := mustAcquire(t, g, "a", 25)
	assert.Equal(t, backpressure.ReasonTenantShare, refusal(t, g, "a", 10))
	assert.Equal(t, backpressure.ReasonTooLarge, refusal(t, g, "b", 31), "bigger than a share can ever hold")
	mustAcquire(t, g, "b", 30)()
	rel()
}

func TestTenantCardinalityIsCapped(t *testing.T) {
	g := New(Config{MaxRequests: 100, MaxTenants: 3})
	var rels []func()
	for _, tenant := range []string{"a", "b", "c", "d", "e", "f"} {
		rels = append(rels, mustAcquire(t, g, tenant, 1))
	}
	assert.Equal(t, 4, g.Stats().Tenants, "three tenants plus the overflow bucket")
	for _, rel := range rels {
		rel()
	}
	assert.Equal(t, Stats{}, g.Stats())
}

func TestReleasingTwicePanics(t *testing.T) {
	g := New(Config{MaxRequests: 1})
	rel := mustAcquire(t, g, "", 1)
	rel()
	assert.Panics(t, rel)
}

// TestNeverExceedsLimitsAndNeverDeadlocks hammers one gate from many goroutines (run with
// -race): the limits hold at every instant, every request ends admitted or refused, and the
// gate drains to zero.
func TestNeverExceedsLimitsAndNeverDeadlocks(t *testing.T) {
	const maxReq, maxBytes = 8, 1000
	g := New(Config{MaxRequests: maxReq, MaxBytes: maxBytes, MaxWaiting: 16, MaxWait: 5 * time.Millisecond, TenantShare: 0.5, MaxTenants: 4})
	var inReq, inBytes, peakReq, peakBytes, admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			for j := range 200 {
				n := int64((i*31 + j*17) % 300)
				rel, err := acquireEitherWay(g, string(rune('a'+i%6)), n, j%2 == 0)
				if err != nil {
					refused.Add(1)
					continue
				}
				admitted.Add(1)
				storeMax(&peakReq, inReq.Add(1))
				storeMax(&peakBytes, inBytes.Add(n))
				inReq.Add(-1)
				inBytes.Add(-n)
				rel()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peakReq.Load(), int64(maxReq))
	assert.LessOrEqual(t, peakBytes.Load(), int64(maxBytes))
	assert.Equal(t, int64(64*200), admitted.Load()+refused.Load())
	assert.Positive(t, admitted.Load())
	assert.Equal(t, Stats{}, g.Stats())
}

// acquireEitherWay takes n bytes with Acquire, or by a reservation growing in two steps.
func acquireEitherWay(g *Gate, tenant string, n int64, reserve bool) (func(), error) {
	if !reserve {
		rel, _, err := g.Acquire(context.Background(), tenant, n)
		return rel, err
	}
	res := g.Reserve(tenant)
	defer res.Cancel()
	for _, part := range []int64{n / 2, n - n/2} {
		if _, err := res.Grow(context.Background(), part); err != nil {
			return nil, err
		}
	}
	rel, _, err := res.Admit(context.Background())
	return rel, err
}

func storeMax(m *atomic.Int64, v int64) {
	for cur := m.Load(); v > cur && !m.CompareAndSwap(cur, v); cur = m.Load() {
	}
}

func TestRefusalErrorsAreErrRefused(t *testing.T) {
	g := New(Config{MaxRequests: 1})
	rel := mustAcquire(t, g, "", 0)
	_, _, err := g.Acquire(context.Background(), "", 0)
	assert.True(t, errors.Is(err, ErrRefused))
	assert.False(t, errors.Is(err, ErrGaveUp), "refused at once, without waiting")
	rel()
}

// TestOnlyRefusalsAfterWaitingAreErrGaveUp: a request that waited out MaxWait gave up; one
// refused because the queue was full did not wait.
func TestOnlyRefusalsAfterWaitingAreErrGaveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 1, MaxWaiting: 1, MaxWait: time.Second})
		hold := mustAcquire(t, g, "", 0)
		waited := make(chan error, 1)
		go func() { _, _, err := g.Acquire(context.Background(), "", 0); waited <- err }()
		synctest.Wait()
		_, _, err := g.Acquire(context.Background(), "", 0)
		assert.ErrorIs(t, err, ErrQueueFull)
		assert.NotErrorIs(t, err, ErrGaveUp)
		err = <-waited
		assert.ErrorIs(t, err, ErrGaveUp)
		hold()
		assert.Equal(t, Stats{}, g.Stats())
	})
}

// The gate speaks the contract's reasons: an admitted request reports the same "none" a
// successful response carries, so a reason can go straight to a metric attribute.
func TestAdmittedRequestReportsTheContractsNoneReason(t *testing.T) {
	g := New(Config{MaxRequests: 1})
	rel, r, err := g.Acquire(context.Background(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, backpressure.OK.Reason, r)
	rel()
}

// TestFloodingTenantCannotTakeTheQueueFromOthers: one tenant floods a gate that lets
// requests wait, another sends a trickle that always fits within its share. The flood is held
// to its share and refused for it; the trickle is never refused.
func TestFloodingTenantCannotTakeTheQueueFromOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 4, TenantShare: 0.5, MaxWaiting: 4, MaxWait: 5 * time.Second})
		var floodAdmitted, floodShareRefusals, floodOther atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 20 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					rel, r, err := g.Acquire(context.Background(), "flood", 0)
					switch {
					case err == nil:
						floodAdmitted.Add(1)
						time.Sleep(3 * time.Second)
						rel()
					case r == backpressure.ReasonTenantShare:
						floodShareRefusals.Add(1)
						time.Sleep(100 * time.Millisecond)
					default:
						floodOther.Add(1)
						time.Sleep(100 * time.Millisecond)
					}
				}
			})
		}
		for range 50 {
			time.Sleep(time.Second)
			rel, r, err := g.Acquire(context.Background(), "trickle", 0)
			require.NoError(t, err, "trickle refused: %s", r)
			time.Sleep(200 * time.Millisecond)
			rel()
		}
		close(stop)
		wg.Wait()
		assert.Positive(t, floodAdmitted.Load())
		assert.Positive(t, floodShareRefusals.Load(), "the flood is refused for its share")
		assert.Zero(t, floodOther.Load(), "never for a limit the flood did not reach")
		assert.Equal(t, Stats{}, g.Stats())
	})
}

// TestShareBlockedWaitersAreBoundedPerTenant: waiters blocked by their own share are capped
// at the tenant's share of MaxWaiting, and a full global queue is refused with ErrQueueFull.
func TestShareBlockedWaitersAreBoundedPerTenant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxRequests: 2, TenantShare: 0.5, MaxWaiting: 2, MaxWait: time.Minute})
		a := mustAcquire(t, g, "a", 0)
		go func() { mustAcquire(t, g, "a", 0)() }() // waits for its share, in a's own place
		synctest.Wait()
		assert.Equal(t, backpressure.ReasonTenantShare, refusal(t, g, "a", 0), "a has its share of waiters")
		b := mustAcquire(t, g, "b", 0) // the gate is now full
		for _, tenant := range []string{"c", "d"} {
			go func() { mustAcquire(t, g, tenant, 0)() }()
		}
		synctest.Wait()
		_, r, err := g.Acquire(context.Background(), "e", 0)
		assert.Equal(t, backpressure.ReasonOverloaded, r)
		assert.ErrorIs(t, err, ErrQueueFull)
		assert.Equal(t, 3, g.Stats().Waiting)
		a()
		b()
		synctest.Wait()
		assert.Equal(t, Stats{}, g.Stats())
	})
}
