package queue

import "errors"

// Refusals. Offer returns them immediately and leaves the queue and the budget unchanged;
// the caller keeps the item and answers its client.
var (
	// ErrQueueFull: the lane's row or byte limit would be exceeded (→ 429).
	ErrQueueFull = errors.New("lane queue full")
	// ErrBudget: the exporter-wide byte budget would be exceeded (→ 429).
	ErrBudget = errors.New("exporter memory budget exhausted")
	// ErrTooLarge: the item alone exceeds the lane's limits and could never be queued; the
	// caller must split it (retrying the same item cannot help).
	ErrTooLarge = errors.New("item larger than the lane queue")
	// ErrClosed: the queue was closed; Offer refuses, Take returns it once drained.
	ErrClosed = errors.New("lane queue closed")
)
