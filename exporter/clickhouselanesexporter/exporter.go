package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/breaker"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/reqsize"
)

// chExporter is the data path of one signal. A pipeline call splits its rows by lane key and
// offers each part to its lane's queue without blocking: a full queue, an exhausted budget
// or an open breaker refuses at once with a retry hint. Each lane's worker batches, inserts
// and completes the parts; with acknowledge on_insert the call waits for that.
type chExporter[T any] struct {
	cfg *Config
	sig signal[T]
	// records converts a part into a write-ahead log record and back (acknowledge on_wal).
	records *recordCodec[T]
	logger  *zap.Logger
	tel     *telemetry[T]
	budget  *queue.Budget

	dests  map[string]*destination // by name
	routes map[string]*destination // by lane key

	mu     sync.RWMutex
	lanes  map[string]*lane[T] // by label
	closed bool

	workerCtx     context.Context // cancelled when shutdown gives up draining
	stopWorkers   context.CancelFunc
	workers       sync.WaitGroup
	sweeperDone   chan struct{}
	stopSweeper   chan struct{}
	unwrittenRows atomic.Int64 // rows whose insert shutdown cancelled

	// With acknowledge on_wal.
	id         component.ID
	walBudget  *wal.Budget
	walRelease func()
	walUnlock  func() error   // releases the directory lock and the budget
	appending  sync.WaitGroup // appends in flight, waited for before the logs close
	hooks      testHooks
}

// newExporterHooks are given to the exporters created while a test sets them.
var newExporterHooks testHooks

// testHooks let tests stop a lane at the points a crash can hit.
type testHooks struct {
	// beforeCommit runs after a batch is in ClickHouse and before the log's cursor moves past
	// it; false stops the lane's worker there, as a kill -9 would.
	beforeCommit func(lane string) bool
	// writer replaces each lane's ClickHouse with a scripted one.
	writer func(d *destination) blockWriter
	// openingLog runs before a new lane opens its log, outside the exporter's mutex.
	openingLog func(lane string)
}

func newExporter[T any](set exporter.Settings, cfg *Config, sig signal[T]) (*chExporter[T], error) {
	e := &chExporter[T]{
		cfg: cfg, sig: sig, logger: set.Logger, id: set.ID,
		budget: sharedBudget(set.ID, cfg.Lanes.MemoryBudget),
		lanes:  map[string]*lane[T]{},
		hooks:  newExporterHooks,
	}
	e.records = newRecordCodec(&e.sig)
	tel, err := newTelemetry(set, e)
	if err != nil {
		return nil, err
	}
	e.tel = tel
	return e, nil
}

func (e *chExporter[T]) ackOnInsert() bool { return e.cfg.Acknowledge == AckOnInsert }

func (e *chExporter[T]) ackOnWAL() bool { return e.cfg.Acknowledge == AckOnWAL }

// push splits data into lane parts and offers them.
func (e *chExporter[T]) push(ctx context.Context, data T) error {
	parts := e.partsOf(ctx, data)
	if len(parts) == 0 {
		return nil
	}
	if e.ackOnWAL() {
		// The log takes rows whatever ClickHouse's state: only a full log refuses.
		var errs []error
		for _, p := range parts {
			errs = append(errs, e.appendPart(p))
		}
		return errors.Join(errs...)
	}
	if len(parts) > 1 {
		if err := e.refuseIfAnyBreakerOpen(parts); err != nil {
			return err
		}
	}
	// A request that stays whole may come weighed by the receiver that decoded it.
	if len(parts) == 1 {
		if n, ok := reqsize.For(ctx, parts[0].rows); ok {
			parts[0].size = n
		}
	}
	if !e.ackOnInsert() {
		var errs []error
		for _, p := range parts {
			if err := e.offer(p, nil, nil); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	ack := queue.NewAck(len(parts))
	for _, p := range parts {
		if err := e.offer(p, ack.Done, ctx.Done()); err != nil {
			ack.Done(err)
		}
	}
	return ack.Wait(ctx)
}

// partsOf maps data to lane parts. With the signal or a metadata key every row has the same
// key and data is not copied; with a resource attribute a request whose resources carry
// several keys is split into one part per key.
func (e *chExporter[T]) partsOf(ctx context.Context, data T) []part[T] {
	rows := e.sig.rows(data)
	if rows == 0 {
		return nil
	}
	switch e.cfg.Lanes.Key {
	case LaneByMetadata:
		return []part[T]{{key: keyFromMetadata(ctx, e.cfg.Lanes.KeyName), data: data, rows: rows}}
	case LaneByResourceAttribute:
		parts := e.sig.split(data, e.cfg.Lanes.KeyName)
		if len(parts) == 1 {
			parts[0].rows = rows
			return parts
		}
		for i := range parts {
			parts[i].rows = e.sig.rows(parts[i].data)
		}
		return parts
	default:
		return []part[T]{{key: e.sig.name, data: data, rows: rows}}
	}
}

// refuseIfAnyBreakerOpen refuses a request split across lanes as a whole when one of its
// lanes is known to be failing: the client would retry the whole request anyway, and rows
// accepted by the healthy lanes would then be written twice. (A queue that fills between
// the parts' offers still splits the outcome; the README documents that window.)
func (e *chExporter[T]) refuseIfAnyBreakerOpen(parts []part[T]) error {
	for _, p := range parts {
		l, err := e.laneFor(p.key)
		if err != nil {
			return err
		}
		if err := l.breaker.Check(); err != nil {
			var rows int
			for _, p := range parts {
				rows += p.rows
			}
			return e.breakerOpen(l, err, rows)
		}
	}
	return nil
}

// offer queues one part on its lane, or returns the refusal to answer with; abandoned is
// closed when the caller stops waiting (nil with on_enqueue). A refusal
// touches no other lane, and the cheap checks (breaker, rows) come before sizing the part,
// which walks all of it.
func (e *chExporter[T]) offer(p part[T], done func(error), abandoned <-chan struct{}) error {
	rows, size := p.rows, p.size
	// A lane retired as idle between lookup and offer refuses with ErrClosed; the second
	// lookup creates a fresh one.
	for range 2 {
		l, err := e.laneFor(p.key)
		if err != nil {
			return err
		}
		if err := l.breaker.Check(); err != nil {
			return e.breakerOpen(l, err, rows)
		}
		if l.queue.Stats().Rows+rows > e.cfg.Lanes.MaxQueueRows && rows <= e.cfg.Lanes.MaxQueueRows {
			return e.queueFull(l, rows)
		}
		if size <= 0 {
			size = e.sig.size(p.data)
		}
		switch err := l.queue.Offer(queue.Item[T]{Payload: p.data, Rows: rows, Bytes: size, Done: done, Abandoned: abandoned}); err {
		case nil:
			l.used.Store(true)
			if l.label == overflowLane {
				e.tel.overflow(rows)
			}
			return nil
		case queue.ErrClosed:
			continue
		case queue.ErrQueueFull:
			return e.queueFull(l, rows)
		case queue.ErrBudget:
			e.tel.refused(l, reasonBudget, rows)
			return l.refusals.budget
		default: // queue.ErrTooLarge: retrying the same request can never succeed
			e.tel.refused(l, reasonTooLarge, rows)
			return backpressure.Invalid(fmt.Sprintf("a request of %d rows and %d bytes exceeds lane %q's queue limits (lanes::max_queue_rows %d, lanes::max_queue_bytes %d): send smaller requests or raise the limits",
				rows, size, l.label, e.cfg.Lanes.MaxQueueRows, e.cfg.Lanes.MaxQueueBytes))
		}
	}
	return backpressure.Unavailable("lane is being retired: retry", time.Second)
}

// breakerOpen counts and answers rows refused because the lane's breaker (err, from Check)
// is open: 503 with the time until the probe.
func (e *chExporter[T]) breakerOpen(l *lane[T], err error, rows int) error {
	var open *breaker.OpenError
	errors.As(err, &open)
	r := reasonBreakerOpen
	if l.schemaFault.Load() {
		r = reasonSchema
	}
	e.tel.refused(l, r, rows)
	return l.refusals.breakerOpen(open.RetryAfter())
}

func (e *chExporter[T]) queueFull(l *lane[T], rows int) error {
	e.tel.refused(l, reasonQueueFull, rows)
	return l.refusals.queueFull
}

// errShuttingDown answers calls that arrive after shutdown began.
var errShuttingDown = backpressure.Unavailable("exporter is shutting down", time.Second)

// laneFor returns the lane of key, creating it (and its worker) on first use. Keys beyond
// max_lanes share the overflow lane, except routed keys, which always get their own.
func (e *chExporter[T]) laneFor(key string) (*lane[T], error) { return e.lookupLane(key, true) }

// reopenLane is laneFor for a lane whose log is on disk at start: it gets its own lane even
// beyond max_lanes (counted against it for new keys), so what its log holds is inserted.
func (e *chExporter[T]) reopenLane(label string) (*lane[T], error) { return e.lookupLane(label, false) }

// lookupLane finds or creates the lane of key. A new lane is created under e.mu but opened
// (its log read and recovered, with on_wal: seconds for a large log) outside it, so a new
// tenant's first request does not stall every other request's lookup: callers for the same
// lane wait for it to open, the others go on.
func (e *chExporter[T]) lookupLane(key string, capped bool) (*lane[T], error) {
	l, created, err := e.findOrCreateLane(key, capped)
	if err != nil {
		return nil, err
	}
	if created {
		e.openLane(l)
	}
	return l, l.waitOpen()
}

// findOrCreateLane returns the lane key maps to, and whether it is new: then the caller must
// open it (openLane).
func (e *chExporter[T]) findOrCreateLane(key string, capped bool) (l *lane[T], created bool, err error) {
	e.mu.RLock()
	l, ok := e.lanes[key]
	closed := e.closed
	e.mu.RUnlock()
	switch {
	case closed:
		return nil, false, errShuttingDown
	case ok:
		return l, false, nil
	case e.dests == nil:
		return nil, false, errors.New("clickhouselanes exporter used before start")
	}
	dest, routed := e.routes[key]
	if !routed {
		dest = e.dests[defaultDestination]
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, errShuttingDown
	}
	if l, ok := e.lanes[key]; ok {
		return l, false, nil
	}
	label := key
	if capped && !routed && e.unroutedLanesLocked() >= e.cfg.Lanes.MaxLanes {
		label = overflowLane
		if l, ok := e.lanes[label]; ok {
			return l, false, nil
		}
	}
	if e.ackOnWAL() && len(laneDirName(label)) > maxLaneDirName {
		label = overflowLane // its log directory name would be too long
		if l, ok := e.lanes[label]; ok {
			return l, false, nil
		}
	}
	l = e.newLane(label, dest)
	e.workers.Add(1) // shutdown waits for the opening too: it closes the log after
	e.lanes[label] = l
	return l, true, nil
}

// openLane starts the new lane's worker, opening its log first with on_wal. A lane whose log
// cannot be opened leaves the map: its waiting callers get the error, and the next request
// tries again.
func (e *chExporter[T]) openLane(l *lane[T]) {
	defer close(l.opened)
	if !e.ackOnWAL() {
		go l.run(e.workerCtx)
		return
	}
	if h := e.hooks.openingLog; h != nil {
		h(l.label)
	}
	if err := l.openLog(); err != nil {
		l.openErr = backpressure.Unavailable(err.Error(), e.cfg.Breaker.CoolDown)
		e.mu.Lock()
		if e.lanes[l.label] == l {
			delete(e.lanes, l.label)
		}
		e.mu.Unlock()
		e.workers.Done()
		return
	}
	go l.drain(e.workerCtx)
}

// unroutedLanesLocked counts the lanes max_lanes applies to.
func (e *chExporter[T]) unroutedLanesLocked() int {
	n := 0
	for k := range e.lanes {
		if _, routed := e.routes[k]; !routed && k != overflowLane {
			n++
		}
	}
	return n
}
