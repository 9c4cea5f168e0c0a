package clickhouselanesexporter

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/lane"
)

// readChunk is how many payload bytes the drain reads from the log at a time.
const readChunk = 1 << 20

// logBatch is a batch read from the log: records first..last (some may have been skipped as
// damaged), decoded.
type logBatch[T any] struct {
	first, last walIndex
	items       []lane.Item[T]
	rows, bytes int
	replayed    int   // rows of records that were in the log when it was opened
	full        bool  // stopped at flush_rows, the byte cap or the memory budget: more is waiting
	reserved    int64 // bytes of lanes::memory_budget held until the batch is settled
}

// drain is the worker of an on_wal lane. It inserts the log's records in batches, in order,
// and moves the durable cursor only after ClickHouse committed (or rejected for good) a
// batch. Before each insert it saves the batch's bounds as pending, so after a crash the
// same records — the same blocks, hence the same content-hash deduplication tokens — are
// sent first, and a batch that had committed just before the crash is not written twice.
func (l *aLane[T]) drain(ctx context.Context) {
	defer l.e.workers.Done()
	st := l.recovery.State
	next := st.Committed + 1
	if st.PendingFirst != 0 {
		b := l.read(st.PendingFirst, st.PendingLast)
		if !l.insertBatch(ctx, b) {
			return
		}
		next = st.PendingLast + 1
	}
	backlog := l.recovery.Records > 0
	for {
		if !l.waitForBatch(ctx, next, backlog) {
			return
		}
		b := l.read(next, 0)
		if b.last < next { // nothing readable (a read error was logged) or no memory: try again later
			backlog = false
			if !sleepCtx(ctx, l.e.cfg.Lanes.FlushInterval) {
				return
			}
			continue
		}
		l.unsent.Add(-int64(b.rows))
		if l.unsent.Load() < 0 {
			l.unsent.Store(0) // a hint only; replayed rows were never counted
		}
		settled := l.savePending(ctx, b) && l.insertBatch(ctx, b)
		l.e.budget.Release(b.reserved)
		if !settled {
			return
		}
		next = b.last + 1
		backlog = b.full
	}
}

// waitForBatch waits until a batch is due from next on: flush_rows rows appended, the oldest
// unsent record older than flush_interval, a backlog (the last batch was full, or the log
// held records at start), or the lane closing (then it drains without waiting, and returns
// false once nothing is left). False also when ctx ends.
func (l *aLane[T]) waitForBatch(ctx context.Context, next walIndex, backlog bool) bool {
	lc := l.e.cfg.Lanes
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		st := l.log.Stats()
		closing := isClosed(l.closing)
		if st.LastIndex >= next {
			if backlog || closing || l.unsent.Load() >= int64(lc.FlushRows) {
				return true
			}
			wait := lc.FlushInterval
			if !st.FirstUnsent.IsZero() {
				wait -= time.Since(st.FirstUnsent)
			}
			if wait <= 0 {
				return true
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
		} else if closing {
			return false
		}
		var expired <-chan time.Time
		if timer != nil {
			expired = timer.C
		}
		select {
		case <-l.appended:
		case <-expired:
		case <-l.closing:
		case <-ctx.Done():
			return false
		}
	}
}

// read decodes the records from first on: up to last if last > 0 (a pending batch, exactly
// as it was), else until flush_rows rows or lanes::max_queue_bytes bytes. A record that does
// not decode is counted as damaged and skipped.
func (l *aLane[T]) read(first, last walIndex) logBatch[T] {
	lc := l.e.cfg.Lanes
	b := logBatch[T]{first: first, last: first - 1}
	for from := first; ; {
		recs, err := l.log.Read(from, readChunk)
		if d := l.log.Stats().Damaged; d > l.damagedSeen {
			l.e.tel.damaged(l, d-l.damagedSeen)
			l.damagedSeen = d
		}
		if err != nil {
			l.e.logger.Error("Write-ahead log read failed", zap.String("lane", l.label), zap.Error(err))
			return b
		}
		if len(recs) == 0 {
			return b
		}
		for _, r := range recs {
			if last > 0 && r.Index > last {
				return b
			}
			if last == 0 && len(b.items) > 0 && (b.rows >= lc.FlushRows || b.bytes+len(r.Payload) > lc.MaxQueueBytes) {
				b.full = true
				return b
			}
			// A new batch takes its share of lanes::memory_budget (its protobuf bytes), so the
			// batches of many lanes cannot outgrow it; a pending batch is resent whole.
			if last == 0 {
				if !l.e.budget.TryReserve(int64(len(r.Payload))) {
					b.full = len(b.items) > 0
					return b
				}
				b.reserved += int64(len(r.Payload))
			}
			b.last = r.Index
			data, err := l.decode(r.Payload)
			if err != nil {
				if last == 0 {
					l.e.budget.Release(int64(len(r.Payload)))
					b.reserved -= int64(len(r.Payload))
				}
				l.e.tel.damaged(l, 1)
				l.e.logger.Error("Skipping a write-ahead log record that does not decode",
					zap.String("lane", l.label), zap.Uint64("index", uint64(r.Index)), zap.Error(err))
				continue
			}
			rows := l.e.sig.rows(data)
			b.items = append(b.items, lane.Item[T]{Payload: data, Rows: rows, Bytes: len(r.Payload)})
			b.rows += rows
			b.bytes += len(r.Payload)
			if r.Index <= l.replayTo {
				b.replayed += rows
			}
		}
		from = recs[len(recs)-1].Index + 1
		if last > 0 && from > last {
			return b
		}
	}
}

func (l *aLane[T]) decode(p []byte) (T, error) {
	var zero T
	if len(p) == 0 || p[0] != recordProtobuf {
		return zero, errUnknownRecord
	}
	return l.e.sig.unmarshal(p[1:])
}

// savePending records the batch's bounds before its insert. Without it a crash could make
// the next start rebuild a different batch from the same records (another token) after
// this one committed: a duplicate. So it is retried until it succeeds or ctx ends.
func (l *aLane[T]) savePending(ctx context.Context, b logBatch[T]) bool {
	s := walState{Committed: b.first - 1, PendingFirst: b.first, PendingLast: b.last}
	backoff := l.e.cfg.Retry.InitialInterval
	for {
		err := l.log.SaveState(s)
		if err == nil {
			return true
		}
		l.e.logger.Error("Cannot save the write-ahead log's pending batch; retrying before inserting it",
			zap.String("lane", l.label), zap.Error(err))
		if !sleepCtx(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, l.e.cfg.Retry.MaxInterval)
	}
}

// insertBatch inserts b behind the breaker, retrying transient failures until it is written
// or ctx ends (the log is the buffer), then moves the cursor past it. Rows ClickHouse
// rejects for good are counted as dropped (telemetry) and skipped. It reports false when ctx
// ended first: the batch stays pending, and the next start resends it.
func (l *aLane[T]) insertBatch(ctx context.Context, b logBatch[T]) bool {
	if len(b.items) > 0 {
		l.busy.Store(true)
		ok := l.writeLogBatch(ctx, b.items)
		clear(b.items)
		l.busy.Store(false)
		if !ok {
			return false
		}
		l.e.tel.replayed(l, b.replayed)
	}
	if h := l.e.hooks.beforeCommit; h != nil && !h(l.label) {
		return false // a test's simulated crash: committed in ClickHouse, not in the log
	}
	if err := l.log.SaveState(walState{Committed: b.last}); err != nil {
		// The pending bounds on disk still name this batch: a restart would resend it, and
		// its tokens make ClickHouse drop it. The next save moves the cursor anyway.
		l.e.logger.Error("Cannot save the write-ahead log's cursor after a committed batch",
			zap.String("lane", l.label), zap.Error(err))
	}
	return true
}

// writeLogBatch inserts items; a batch of a single-table signal that ClickHouse rejects for
// its data is split until the bad requests are alone (isolate), and only they are dropped.
// Transient failures are retried until ctx ends (insert holds the batch with on_wal); false
// then: the batch stays pending and is resent whole (its committed parts deduplicated).
func (l *aLane[T]) writeLogBatch(ctx context.Context, items []lane.Item[T]) bool {
	report := l.record
	if l.isolatable(items) {
		report = l.recordUnlessRejected
	}
	err := l.insert(ctx, items, report)
	switch {
	case err == nil:
		return true
	case ctx.Err() != nil:
		return false
	case !l.isolatable(items):
		return true // rejected for good: counted as dropped by record
	}
	l.isolate(ctx, items, func([]lane.Item[T], error) {})
	return ctx.Err() == nil
}

var errUnknownRecord = errors.New("not a record this exporter writes (unknown format tag)")

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
