package queue

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAckWaitsForEveryPart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewAck(3)
		errc := make(chan error)
		go func() { errc <- a.Wait(t.Context()) }()
		a.Done(nil)
		a.Done(nil)
		synctest.Wait()
		select {
		case <-errc:
			t.Fatal("Wait returned with a part outstanding")
		default:
		}
		a.Done(nil)
		assert.NoError(t, <-errc)
	})
}

func TestAckJoinsThePartsErrors(t *testing.T) {
	a := NewAck(3)
	e1, e2 := errors.New("one"), errors.New("two")
	a.Done(e1)
	a.Done(nil)
	a.Done(e2)
	err := a.Wait(t.Context())
	assert.ErrorIs(t, err, e1)
	assert.ErrorIs(t, err, e2)
	assert.Panics(t, func() { a.Done(nil) }, "a fourth completion is a double Done")
	assert.Panics(t, func() { NewAck(0) })
}

func TestAckWaitStopsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewAck(1)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		require.ErrorIs(t, a.Wait(ctx), context.DeadlineExceeded)
		a.Done(nil) // a late completion is harmless
	})
}

// An acknowledged-on-insert request whose rows span two lanes is woken by the inserts of
// both.
func TestAckIsWokenByTheBatchesCarryingItsRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a1, a2 := NewQueue[string](testConfig, nil), NewQueue[string](testConfig, nil)
		ack := NewAck(2)
		require.NoError(t, a1.Offer(Item[string]{Payload: "tenant-a rows", Rows: 3, Bytes: 30, Done: ack.Done}))
		require.NoError(t, a2.Offer(Item[string]{Payload: "tenant-b rows", Rows: 2, Bytes: 20, Done: ack.Done}))
		for _, q := range []*Queue[string]{a1, a2} {
			go func() {
				batch, err := q.Take(t.Context(), nil)
				assert.NoError(t, err)
				q.Complete(batch, nil)
			}()
		}
		start := time.Now()
		require.NoError(t, ack.Wait(t.Context()))
		assert.Equal(t, testConfig.FlushAge, time.Since(start), "committed by the age flush")
	})
}

func TestAllAbandoned(t *testing.T) {
	gone, waiting := make(chan struct{}), make(chan struct{})
	close(gone)
	assert.True(t, AllAbandoned([]Item[int]{{Abandoned: gone}, {Abandoned: gone}}))
	assert.False(t, AllAbandoned([]Item[int]{{Abandoned: gone}, {Abandoned: waiting}}), "one caller still waits")
	assert.False(t, AllAbandoned([]Item[int]{{Abandoned: gone}, {}}), "an item without a caller channel is never abandoned")
}
