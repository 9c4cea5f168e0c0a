package queue

import (
	"fmt"
	"sync"
	"time"
)

// Queue is one lane's bounded queue and batcher. Any number of goroutines may Offer; one
// goroutine, the lane's worker, calls Take and Complete.
type Queue[T any] struct {
	cfg    Config
	budget *Budget // shared across lanes; nil means no global budget

	// wake holds at most one pending signal that the queue became worth looking at: it went
	// from empty to non-empty (start the age clock) or reached FlushRows. One buffered slot
	// suffices because there is one consumer, and it re-checks under mu after waking.
	wake   chan struct{}
	closed chan struct{} // closed by Close; wakes the consumer for the drain

	mu       sync.Mutex
	entries  []entry[T] // queued items, oldest at entries[head]
	head     int
	rows     int
	bytes    int
	isClosed bool
	lastAt   time.Time // when the newest item was queued, for FlushQuiet
}

// entry is an item with the time it was queued, for the age trigger.
type entry[T any] struct {
	item Item[T]
	at   time.Time
}

// NewQueue returns an empty queue. budget may be nil. An invalid cfg is a programming error
// (the exporter validates its configuration first) and panics.
func NewQueue[T any](cfg Config, budget *Budget) *Queue[T] {
	if err := cfg.Validate(); err != nil {
		panic("queue: " + err.Error())
	}
	return &Queue[T]{
		cfg:    cfg,
		budget: budget,
		wake:   make(chan struct{}, 1),
		closed: make(chan struct{}),
	}
}

// Offer queues it without ever blocking. It returns ErrTooLarge, ErrClosed, ErrQueueFull
// or ErrBudget, in that order of precedence, and a refusal leaves the queue and the budget
// unchanged and does not call it.Done. The queue's row and byte limits and the budget are
// never exceeded, whatever the concurrency. It panics on negative Rows or Bytes.
func (q *Queue[T]) Offer(it Item[T]) error {
	if it.Rows < 0 || it.Bytes < 0 {
		panic(fmt.Sprintf("queue: negative item size: %d rows, %d bytes", it.Rows, it.Bytes))
	}
	if it.Rows > q.cfg.MaxRows || it.Bytes > q.cfg.MaxBytes {
		return ErrTooLarge
	}
	q.mu.Lock()
	if err := q.admitLocked(it); err != nil {
		q.mu.Unlock()
		return err
	}
	// Read the clock only once admitted: a refusal must stay as cheap as possible, and
	// time.Now is the most expensive step here on some virtual machines.
	now := time.Now()
	wasEmpty := q.head == len(q.entries)
	crossed := q.rows < q.cfg.FlushRows && q.rows+it.Rows >= q.cfg.FlushRows
	if q.head > 0 && len(q.entries) == cap(q.entries) {
		q.compactLocked()
	}
	q.entries = append(q.entries, entry[T]{item: it, at: now})
	q.rows += it.Rows
	q.bytes += it.Bytes
	q.lastAt = now
	q.mu.Unlock()

	if wasEmpty || crossed {
		select {
		case q.wake <- struct{}{}:
		default: // a signal is already pending
		}
	}
	return nil
}

// admitLocked checks the limits and reserves the budget last, so nothing needs undoing.
func (q *Queue[T]) admitLocked(it Item[T]) error {
	switch {
	case q.isClosed:
		return ErrClosed
	case q.rows+it.Rows > q.cfg.MaxRows || q.bytes+it.Bytes > q.cfg.MaxBytes:
		return ErrQueueFull
	case q.budget != nil && !q.budget.TryReserve(int64(it.Bytes)):
		return ErrBudget
	}
	return nil
}

// compactLocked moves the live entries to the front so append reuses the backing array
// instead of growing it after every partial Take.
func (q *Queue[T]) compactLocked() {
	n := copy(q.entries, q.entries[q.head:])
	clear(q.entries[n:]) // drop references to payloads already taken
	q.entries = q.entries[:n]
	q.head = 0
}

// Close stops accepting items and wakes the consumer, which then drains what is left:
// Take returns the remaining items without waiting for size or age, then ErrClosed.
// Close is idempotent.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.isClosed {
		q.isClosed = true
		close(q.closed)
	}
}

// Stats returns what the queue holds now (not counting batches taken but not completed).
func (q *Queue[T]) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Items: len(q.entries) - q.head, Rows: q.rows, Bytes: q.bytes}
}
