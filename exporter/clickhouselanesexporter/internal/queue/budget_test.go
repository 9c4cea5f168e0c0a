package queue

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBudgetNeverExceedsItsLimitUnderConcurrency(t *testing.T) {
	b := NewBudget(100)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10_000 {
				if b.TryReserve(7) {
					assert.LessOrEqual(t, b.Used(), b.Limit())
					b.Release(7)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, b.Used())
}

func TestBudgetRefusalLeavesItUnchanged(t *testing.T) {
	b := NewBudget(10)
	assert.True(t, b.TryReserve(10))
	assert.False(t, b.TryReserve(1))
	assert.EqualValues(t, 10, b.Used())
}

func TestBudgetReleasingMoreThanHeldPanics(t *testing.T) {
	b := NewBudget(10)
	assert.True(t, b.TryReserve(3))
	assert.Panics(t, func() { b.Release(4) })
	assert.Panics(t, func() { NewBudget(0) })
}
