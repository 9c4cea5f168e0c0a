package queue

import (
	"fmt"
	"sync/atomic"
)

// Budget is a byte budget shared by every lane's queue, so that the exporter's memory is
// bounded whatever the number of lanes. It is a lock-free counter: TryReserve never blocks,
// because a refusal must cost microseconds, not a wait.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		panic(fmt.Sprintf("queue: budget limit must be positive, got %d", limit))
	}
	return &Budget{limit: limit}
}

// TryReserve takes n bytes if they fit and reports whether it did. On false the budget is
// unchanged.
func (b *Budget) TryReserve(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release returns n bytes taken by TryReserve. Releasing more than is held is a bug in the
// caller and panics.
func (b *Budget) Release(n int64) {
	if b.used.Add(-n) < 0 {
		panic("queue: budget released more than reserved")
	}
}

// Used is the number of bytes currently reserved.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }
