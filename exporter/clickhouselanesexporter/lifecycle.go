package clickhouselanesexporter

// The exporter's start and shutdown, and the retiring of idle lanes in between.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
)

// start builds the destinations and creates the top-level destination's schema (failing
// start if it cannot, except with on_wal: a wrong address or schema setting should be seen
// at once). Routed destinations create theirs on first insert, so a tenant's dead ClickHouse
// cannot stop the collector from starting.
func (e *chExporter[T]) start(ctx context.Context, _ component.Host) error {
	def, err := newDestination(ctx, defaultDestination, e.sig.name, e.cfg, e.sig.tables, e.logger)
	if err != nil {
		return err
	}
	e.dests = map[string]*destination{defaultDestination: def}
	e.routes = map[string]*destination{}
	for _, r := range e.cfg.Routes {
		d, err := newDestination(ctx, r.Name, e.sig.name, e.cfg.routeConfig(r), e.sig.tables, e.logger)
		if err != nil {
			return e.abortStart(err)
		}
		e.dests[r.Name] = d
		for _, k := range r.LaneKeys {
			e.routes[k] = d
		}
	}
	err = def.ensureSchema(ctx)
	if err == nil {
		err = def.readColumns(ctx)
	}
	if err != nil {
		if !e.ackOnWAL() {
			return e.abortStart(err)
		}
		// With on_wal the collector must come up while ClickHouse is down (a restart during
		// an outage): the log takes the rows, and the lanes create the schema and read the
		// columns before their first insert, retrying behind their breakers.
		e.logger.Error("ClickHouse destination not ready at start; the write-ahead logs take rows meanwhile",
			zap.String("destination", def.name), zap.String("signal", e.sig.name), zap.Error(err))
	}
	if err := e.tel.registerCallbacks(); err != nil {
		return e.abortStart(err)
	}
	e.workerCtx, e.stopWorkers = context.WithCancel(context.Background())
	if e.ackOnWAL() {
		if err := e.startWAL(); err != nil {
			e.stopWorkers()
			e.mu.Lock()
			e.closed = true
			lanes := e.lanesLocked()
			e.mu.Unlock()
			e.workers.Wait()
			return e.abortStart(errors.Join(err, e.closeWAL(lanes)))
		}
	}
	e.stopSweeper, e.sweeperDone = make(chan struct{}), make(chan struct{})
	go e.sweepIdleLanes()
	return nil
}

// abortStart closes what start opened, so the shutdown that follows a failed start has
// nothing to do.
func (e *chExporter[T]) abortStart(err error) error {
	err = errors.Join(err, e.closeDestinations())
	e.dests = nil
	return err
}

// sweepIdleLanes retires lanes that received nothing and held nothing for a whole
// idle_timeout. With lanes by signal there is one lane, and it stays.
func (e *chExporter[T]) sweepIdleLanes() {
	defer close(e.sweeperDone)
	// With on_wal a lane keeps its log open (closing it while an append raced in would
	// have to be ordered against reopening the same directory): lanes stay until shutdown.
	if e.cfg.Lanes.Key == LaneBySignal || e.ackOnWAL() {
		<-e.stopSweeper
		return
	}
	tick := time.NewTicker(e.cfg.Lanes.IdleTimeout)
	defer tick.Stop()
	for {
		select {
		case <-e.stopSweeper:
			return
		case <-tick.C:
		}
		e.mu.Lock()
		for key, l := range e.lanes {
			if l.idle() {
				delete(e.lanes, key)
				l.close() // its worker drains what raced in, then returns
			}
		}
		e.mu.Unlock()
	}
}

// shutdown stops accepting rows, lets the lanes drain for up to drain_timeout (or until ctx
// ends), then cancels what is left and reports the rows it could not write. Every waiting
// caller is answered. Safe without start.
func (e *chExporter[T]) shutdown(ctx context.Context) error {
	if e.dests == nil || e.closed {
		return nil
	}
	defer e.tel.shutdown()
	close(e.stopSweeper)
	<-e.sweeperDone

	e.mu.Lock()
	e.closed = true
	lanes := e.lanesLocked()
	for _, l := range lanes {
		l.close()
	}
	e.mu.Unlock()
	e.appending.Wait() // no append is left to acknowledge once the logs close

	drained := make(chan struct{})
	go func() { e.workers.Wait(); close(drained) }()
	timer := time.NewTimer(e.cfg.DrainTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
	case <-ctx.Done():
	}
	e.stopWorkers()
	<-drained // cancelled inserts return promptly

	var rows int
	for _, l := range lanes {
		s := l.queue.Discard(errShuttingDown)
		if s.Rows > 0 {
			e.tel.refused(l, reasonShutdown, s.Rows)
		}
		rows += s.Rows
	}
	rows += int(e.unwrittenRows.Load())
	err := e.closeDestinations()
	if e.ackOnWAL() {
		err = errors.Join(err, e.closeWAL(lanes)) // what is left stays in the logs: not lost
	}
	if rows > 0 {
		e.logger.Error("Shutdown drain deadline passed; rows not written to ClickHouse",
			zap.String("signal", e.sig.name), zap.Int("rows", rows), zap.Duration("drain_timeout", e.cfg.DrainTimeout))
		err = errors.Join(err, fmt.Errorf("clickhouselanes %s: %d rows could not be written before the drain deadline", e.sig.name, rows))
	}
	return err
}

func (e *chExporter[T]) lanesLocked() []*lane[T] {
	lanes := make([]*lane[T], 0, len(e.lanes))
	for _, l := range e.lanes {
		lanes = append(lanes, l)
	}
	return lanes
}

// unwritten counts a batch whose insert shutdown cancelled.
func (e *chExporter[T]) unwritten(l *lane[T], batch []queue.Item[T]) {
	rows := queue.Total(batch).Rows
	e.tel.refused(l, reasonShutdown, rows)
	e.unwrittenRows.Add(int64(rows))
}

func (e *chExporter[T]) closeDestinations() error {
	var errs []error
	for _, d := range e.dests {
		errs = append(errs, d.close())
	}
	return errors.Join(errs...)
}
