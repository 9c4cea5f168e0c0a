package admission

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func TestReservationHoldsBytesButNoSlotUntilAdmitted(t *testing.T) {
	g := New(Config{MaxRequests: 2, MaxBytes: 100})
	res := g.Reserve("a")
	r, err := res.Grow(60)
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
	_, err := res.Grow(30)
	require.NoError(t, err)
	r, err := res.Grow(31)
	assert.Equal(t, backpressure.ReasonTooLarge, r, "61 bytes exceed a 50-byte share for good")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, int64(30), res.Bytes())
	hold2 := mustAcquire(t, g, "third", 20)
	r, _ = res.Grow(15)
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
	_, err := res.Grow(50)
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
