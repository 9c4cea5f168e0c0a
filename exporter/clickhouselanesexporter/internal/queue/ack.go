package queue

import (
	"context"
	"errors"
	"sync"
)

// Ack gathers the completions of the items one request was split into (one per lane it
// touched), for acknowledgement on insert: Wait returns once every part was committed or
// failed. Use Ack.Done as each Item's Done, and call Done yourself for every part that Offer
// refused, so the count always reaches zero.
type Ack struct {
	done chan struct{}

	mu      sync.Mutex
	pending int
	errs    []error
}

// NewAck returns an Ack expecting n completions; n must be positive.
func NewAck(n int) *Ack {
	if n <= 0 {
		panic("queue: an Ack needs at least one part")
	}
	return &Ack{done: make(chan struct{}), pending: n}
}

// Done records one part's outcome. Calling it more often than the Ack expects panics: it
// would mean an item was completed twice.
func (a *Ack) Done(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == 0 {
		panic("queue: Ack completed more times than it has parts")
	}
	if err != nil {
		a.errs = append(a.errs, err)
	}
	a.pending--
	if a.pending == 0 {
		close(a.done)
	}
}

// Wait blocks until every part is done and returns their errors joined (nil if all were
// committed; backpressure.Classify picks the most retryable answer from a join), or
// ctx.Err() if the caller stops waiting first. Parts still queued then are not withdrawn:
// they may yet be committed, which is why a retrying client needs insert deduplication.
func (a *Ack) Wait(ctx context.Context) error {
	select {
	case <-a.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.Join(a.errs...)
}
