package queue

import (
	"context"
	"time"
)

// Take waits for a batch and appends it to dst (pass the previous batch[:0] to reuse its
// array). It returns when
//   - FlushRows rows are queued, the oldest item has waited FlushAge, or (with FlushQuiet)
//     nothing arrived for FlushQuiet: a batch of whole items, oldest first, of at most
//     FlushRows rows (a single larger item goes alone);
//   - the queue is closed: the remaining items, batch by batch, then ErrClosed when empty;
//   - ctx is done: ctx.Err(), taking nothing.
//
// Taken items leave the queue's limits at once, but keep their share of the Budget until
// Complete, so the budget bounds batches in flight too. Only one goroutine may call Take.
func (q *Queue[T]) Take(ctx context.Context, dst []Item[T]) ([]Item[T], error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		wait, ready := q.readyLocked(time.Now())
		if ready {
			dst = q.takeLocked(dst)
			q.mu.Unlock()
			return dst, nil
		}
		closed := q.isClosed
		q.mu.Unlock()
		if closed {
			return dst, ErrClosed
		}

		var expired <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait) // since Go 1.23 Reset never delivers a stale tick
			}
			expired = timer.C
		}
		select {
		case <-q.wake:
		case <-q.closed:
		case <-expired:
		case <-ctx.Done():
			return dst, ctx.Err()
		}
	}
}

// readyLocked reports whether a batch is due and, if not, how long until it will be
// unless more items arrive (0: nothing queued, wait for an offer).
func (q *Queue[T]) readyLocked(now time.Time) (time.Duration, bool) {
	if q.head == len(q.entries) {
		return 0, false
	}
	if q.isClosed || q.rows >= q.cfg.FlushRows {
		return 0, true
	}
	wait := q.cfg.FlushAge - now.Sub(q.entries[q.head].at)
	if q.cfg.FlushQuiet > 0 {
		// An offer does not wake the consumer (only the first and the one reaching
		// FlushRows do), so a later arrival just moves this deadline when it is re-read.
		wait = min(wait, q.cfg.FlushQuiet-now.Sub(q.lastAt))
	}
	if wait <= 0 {
		return 0, true
	}
	return wait, false
}

// takeLocked moves whole items, oldest first, up to FlushRows rows, from the queue to dst.
func (q *Queue[T]) takeLocked(dst []Item[T]) []Item[T] {
	rows, i := 0, q.head
	for ; i < len(q.entries); i++ {
		it := q.entries[i].item
		if i > q.head && rows+it.Rows > q.cfg.FlushRows {
			break
		}
		rows += it.Rows
		q.bytes -= it.Bytes
		dst = append(dst, it)
	}
	q.rows -= rows
	clear(q.entries[q.head:i]) // the queue no longer references taken payloads
	q.head = i
	if q.head == len(q.entries) {
		q.entries, q.head = q.entries[:0], 0
	}
	return dst
}

// Complete finishes a batch returned by Take: it releases the batch's share of the Budget,
// then calls every item's Done with err (nil: committed). It must be called exactly once
// per batch, with items from this queue only.
func (q *Queue[T]) Complete(batch []Item[T], err error) {
	q.release(batch)
	for _, it := range batch {
		if it.Done != nil {
			it.Done(err)
		}
	}
}

// Discard removes every queued item, releases its budget and calls its Done with err. It
// is the end of a shutdown whose drain deadline passed; the returned Stats are what could
// not be written. It does not close the queue.
func (q *Queue[T]) Discard(err error) Stats {
	q.mu.Lock()
	var items []Item[T]
	items = q.takeAllLocked(items)
	q.mu.Unlock()

	s := Total(items)
	q.Complete(items, err)
	return s
}

func (q *Queue[T]) takeAllLocked(dst []Item[T]) []Item[T] {
	for _, e := range q.entries[q.head:] {
		dst = append(dst, e.item)
	}
	clear(q.entries)
	q.entries, q.head, q.rows, q.bytes = q.entries[:0], 0, 0, 0
	return dst
}

func (q *Queue[T]) release(batch []Item[T]) {
	if q.budget == nil {
		return
	}
	if n := Total(batch).Bytes; n > 0 {
		q.budget.Release(int64(n))
	}
}
