package wal

import "sync/atomic"

// Budget is the disk space shared by every log of one exporter (max_bytes).
// Each log charges the bytes of the records it appends and releases them
// when it deletes a committed segment or closes. Safe for concurrent use.
type Budget struct {
	max  int64 // 0 means no limit
	used atomic.Int64
}

// NewBudget returns a budget of maxBytes; 0 means no limit.
func NewBudget(maxBytes int64) *Budget { return &Budget{max: maxBytes} }

// Used is the number of bytes charged now. It may exceed the maximum after
// Open found more on disk than the budget allows (Appends are then refused
// until the backlog drains).
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Max is the budget's limit; 0 means no limit.
func (b *Budget) Max() int64 {
	if b == nil {
		return 0
	}
	return b.max
}

// tryReserve charges n bytes if they fit and reports whether they did.
// A nil budget always has room.
func (b *Budget) tryReserve(n int64) bool {
	if b == nil {
		return true
	}
	for {
		used := b.used.Load()
		if b.max > 0 && used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// charge adds n bytes whether or not they fit (what Open found on disk).
func (b *Budget) charge(n int64) {
	if b != nil {
		b.used.Add(n)
	}
}

// release gives back n bytes charged before.
func (b *Budget) release(n int64) {
	if b != nil && b.used.Add(-n) < 0 {
		panic("wal: budget released more than was charged")
	}
}
