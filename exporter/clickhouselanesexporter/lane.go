package clickhouselanesexporter

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/breaker"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
)

// overflowLane is the lane shared by keys that arrive once max_lanes lanes exist.
const overflowLane = "overflow"

// lane is one lane: a bounded queue with its batcher, a breaker, one worker goroutine and
// the destination it writes to. Nothing in it is shared with another lane except the
// destination's connection pool and the exporter's byte budget.
type lane[T any] struct {
	e       *chExporter[T]
	label   string // the lane key, or overflowLane
	dest    *destination
	writer  blockWriter // dest, or a test's scripted ClickHouse
	queue   *queue.Queue[T]
	breaker *breaker.Breaker

	refusals     refusals
	refusedAttrs [numReasons]metric.MeasurementOption // built once: refusals must stay cheap

	// opened is closed once the lane can take rows: at once in memory, once its log is open
	// with on_wal. openErr, set before, is why it could not open.
	opened  chan struct{}
	openErr error

	used atomic.Bool // an offer arrived since the idle sweeper last looked
	busy atomic.Bool // the worker holds a batch

	// schemaFault: the last insert attempt failed because the table does not accept the rows,
	// so refusals while the breaker is open are counted as reason schema.
	schemaFault atomic.Bool

	// With acknowledge on_wal: the lane's log (its queue stays empty) and what its worker
	// needs to drain it.
	log         walLog
	recovery    walRecovery   // what opening the log found
	replayTo    walIndex      // the last record in the log when it was opened
	damagedSeen int64         // the log's damaged-record count already reported
	tags        []walTagged   // the drain's, for sizing a batch from the log's memory (drain.go)
	heldAt      walIndex      // a record of another version's columns the drain stopped at (logged)
	resends     *resendSet    // records the log held at start, whose resends are absorbed (resend.go)
	unsent      atomic.Int64  // rows appended since the worker last read a batch (a hint)
	appended    chan struct{} // one pending signal that unsent grew
	closing     chan struct{} // closed when the worker should drain what is left and stop
	closeOnce   sync.Once
}

func (e *chExporter[T]) newLane(label string, dest *destination) *lane[T] {
	l := &lane[T]{e: e, label: label, dest: dest, writer: dest}
	if e.hooks.writer != nil {
		l.writer = e.hooks.writer(dest)
	}
	lc := e.cfg.Lanes
	l.refusals = newRefusals(label, dest.name, e.cfg)
	for r := range numReasons {
		l.refusedAttrs[r] = e.tel.laneAttrs(l, attribute.String("reason", reasonNames[r]))
	}
	qc := queue.Config{
		MaxRows: lc.MaxQueueRows, MaxBytes: lc.MaxQueueBytes,
		FlushRows: lc.FlushRows, FlushAge: lc.FlushInterval,
	}
	if e.ackOnInsert() {
		qc.FlushQuiet = lc.FlushQuiet
	}
	l.queue = queue.NewQueue[T](qc, e.budget)
	l.breaker = breaker.New(breaker.Settings{
		FailureThreshold: e.cfg.Breaker.FailureThreshold,
		CoolDown:         e.cfg.Breaker.CoolDown,
		Jitter:           jitterSetting(e.cfg.Breaker.Jitter),
		IsPermanent:      isPermanent,
		OnTransition:     func(t breaker.Transition) { e.tel.transition(l, t) },
	})
	l.used.Store(true)
	l.closing, l.appended = make(chan struct{}), make(chan struct{}, 1)
	l.opened = make(chan struct{})
	return l
}

// jitterSetting maps the config's 0 (no jitter) to the breaker's "none" (negative); the
// breaker reads 0 as "default".
func jitterSetting(j float64) float64 {
	if j == 0 {
		return -1
	}
	return j
}

// waitOpen waits until the lane is opened (chExporter.openLane) and returns why it could not
// be, if it could not.
func (l *lane[T]) waitOpen() error {
	<-l.opened
	return l.openErr
}

// isOpen reports whether the lane is opened, without waiting: its log may be read.
func (l *lane[T]) isOpen() bool { return isClosed(l.opened) && l.openErr == nil }

// close makes the worker drain what the lane holds and stop.
func (l *lane[T]) close() {
	l.queue.Close()
	l.closeOnce.Do(func() { close(l.closing) })
}

// idle reports whether the lane received nothing since the last call and holds nothing.
func (l *lane[T]) idle() bool {
	if l.used.Swap(false) || l.busy.Load() {
		return false
	}
	return l.queue.Stats().Items == 0
}

// run is the lane's worker: it takes a batch when the queue says one is due, inserts it and
// completes its items, until the queue is closed and drained or ctx is cancelled.
func (l *lane[T]) run(ctx context.Context) {
	defer l.e.workers.Done()
	var batch []queue.Item[T]
	for {
		var err error
		batch, err = l.queue.Take(ctx, batch[:0])
		if err != nil {
			return
		}
		l.busy.Store(true)
		l.writeBatch(ctx, batch)
		clear(batch) // the queue must not keep payloads alive through this array
		l.busy.Store(false)
	}
}

// writeBatch inserts a batch and completes its items. A traces or logs batch ClickHouse
// rejects for its data is split until the bad requests are alone (see isolate).
func (l *lane[T]) writeBatch(ctx context.Context, batch []queue.Item[T]) {
	if !l.isolatable(batch) {
		l.complete(ctx, batch, l.insert(ctx, batch, l.reportInsert))
		return
	}
	err := l.insert(ctx, batch, l.reportUnlessRejected)
	if !consumererror.IsPermanent(err) {
		l.complete(ctx, batch, err)
		return
	}
	l.isolate(ctx, batch, func(items []queue.Item[T], err error) { l.complete(ctx, items, err) })
}

// isolatable reports whether a rejected batch can be retried in parts: it holds several
// requests, and the signal writes one table, so nothing of the batch was committed when
// ClickHouse rejected its block. (Metrics write five tables, some of which may have taken
// their rows; resending those would duplicate them.)
func (l *lane[T]) isolatable(batch []queue.Item[T]) bool {
	return len(batch) > 1 && l.e.sig.singleTable
}

// isolate inserts the two halves of a batch ClickHouse rejected for its data, and splits
// again each half rejected again, so one bad request costs about 2·log2(n) inserts instead
// of one per request, and fails alone; its batch-mates are committed. settled is called
// once for every piece with its outcome (a single request's rejection, a half's commit, or
// a transient failure, which ends the splitting of that half). The inserts are counted.
func (l *lane[T]) isolate(ctx context.Context, batch []queue.Item[T], settled func([]queue.Item[T], error)) {
	mid := len(batch) / 2
	for _, half := range [][]queue.Item[T]{batch[:mid], batch[mid:]} {
		report := l.reportUnlessRejected
		if len(half) == 1 {
			report = l.reportInsert // the request alone: a rejection now drops it
		}
		err := l.insert(ctx, half, report)
		l.e.tel.isolationInsert(l)
		if len(half) == 1 || !consumererror.IsPermanent(err) {
			settled(half, err)
			continue
		}
		l.isolate(ctx, half, settled)
	}
}

// complete finishes items with err (nil: committed); rows a shutdown cut off are counted.
func (l *lane[T]) complete(ctx context.Context, items []queue.Item[T], err error) {
	if ctx.Err() != nil && err != nil {
		l.e.unwritten(l, items)
	}
	l.queue.Complete(items, err)
}
