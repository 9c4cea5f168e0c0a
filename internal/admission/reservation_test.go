package admission

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func TestReservationHoldsBytesButNoSlotUntilAdmitted(t *testing.T) {
	g := New(Config{MaxRequests: 2, MaxBytes: 100})
	res := g.Reserve("a")
	r, err := res.Grow(context.Background(), 60)
	require.NoError(t, err, r)
	assert.Equal(t, Stats{Bytes: 60, Tenants: 1}, g.Stats())
	other := mustAcquire(t, g, "b", 40) // the slot is free; the bytes are not
	assert.Equal(t, backpressure.ReasonInflightBytes, refusal(t, g, "c", 1))
	other()
	rel, r, err := res.Admit(context.Background())
	require.NoError(t, err, r)
	assert.Equal(t, Stats{Requests: 1, Bytes: 60, Tenants: 1}, g.Stats())
	res.Cancel() // spent: does nothing
	rel()
	assert.Equal(t, Stats{}, g.Stats())
}

func TestReservationGrowthIsRefusedWithTheLimitAndLeavesItUnchanged(t *testing.T) {
	g := New(Config{MaxBytes: 100, TenantShare: 0.5, MaxTenants: 10})
	hold := mustAcquire(t, g, "other", 40)
	res := g.Reserve("a")
	_, err := res.Grow(context.Background(), 30)
	require.NoError(t, err)
	r, err := res.Grow(context.Background(), 31)
	assert.Equal(t, backpressure.ReasonTooLarge, r, "61 bytes exceed a 50-byte share for good")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, int64(30), res.Bytes())
	hold2 := mustAcquire(t, g, "third", 20)
	r, _ = res.Grow(context.Background(), 15)
	assert.Equal(t, backpressure.ReasonInflightBytes, r)
	res.Cancel()
	hold()
	hold2()
	assert.Equal(t, Stats{}, g.Stats())
}

func TestRefusedAdmitFreesTheReservedBytes(t *testing.T) {
	g := New(Config{MaxRequests: 1, MaxBytes: 100})
	hold := mustAcquire(t, g, "", 0)
	res := g.Reserve("")
	_, err := res.Grow(context.Background(), 50)
	require.NoError(t, err)
	_, r, err := res.Admit(context.Background())
	assert.Equal(t, backpressure.ReasonOverloaded, r)
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, Stats{Requests: 1, Tenants: 1}, g.Stats())
	hold()
	assert.Equal(t, Stats{}, g.Stats())
}

func TestPeekSaysWhatAcquireWouldSayWithoutTakingAnything(t *testing.T) {
	g := New(Config{MaxRequests: 1})
	r, err := g.Peek("")
	require.NoError(t, err)
	assert.Equal(t, backpressure.ReasonNone, r)
	hold := mustAcquire(t, g, "", 0)
	r, err = g.Peek("")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, backpressure.ReasonOverloaded, r)
	assert.Equal(t, Stats{Requests: 1, Tenants: 1}, g.Stats())
	hold()
}

// With waiting on, a reservation's first bytes wait for room like a request; once it holds
// bytes, more is refused at once rather than waiting while holding.
func TestReservationWaitsOnlyForItsFirstBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{MaxBytes: 100, MaxWaiting: 4, MaxWait: time.Minute})
		hold := mustAcquire(t, g, "", 80)
		res := g.Reserve("")
		grown := make(chan error, 1)
		go func() { _, err := res.Grow(context.Background(), 50); grown <- err }()
		synctest.Wait()
		assert.Equal(t, 1, g.Stats().Waiting, "the first bytes wait")
		hold()
		require.NoError(t, <-grown)
		other := mustAcquire(t, g, "", 40)
		start := time.Now()
		r, err := res.Grow(context.Background(), 20)
		assert.ErrorIs(t, err, ErrRefused)
		assert.Equal(t, backpressure.ReasonInflightBytes, r)
		assert.Zero(t, time.Since(start), "growth while holding never waits")
		assert.Equal(t, int64(50), res.Bytes())
		res.Cancel()
		other()
		assert.Equal(t, Stats{}, g.Stats())
	})
}
