package clickhouselanesexporter

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/breaker"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadata"
)

// reason is why rows were refused; the values are the metric's `reason` attribute.
type reason uint8

const (
	reasonQueueFull reason = iota
	reasonBreakerOpen
	reasonBudget
	reasonTooLarge
	reasonShutdown
	reasonSchema // the table does not accept good rows: see chinsert.ClassSchema
	reasonWALFull
	reasonDiskFull
	numReasons
)

var reasonNames = [numReasons]string{"queue_full", "breaker_open", "budget", "too_large", "shutdown", "schema", "wal_full", "disk_full"}

// refusalLogInterval rate-limits the refusal log line, per reason: a flood of refusals must
// not become a flood of log lines.
const refusalLogInterval = time.Second

var breakerStates = []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen}

// telemetry records the exporter's self-telemetry declared in metadata.yaml. The lane
// attribute is bounded: lanes are capped by max_lanes plus routes plus "overflow".
type telemetry[T any] struct {
	e       *chExporter[T]
	tb      *metadata.TelemetryBuilder
	logger  *zap.Logger
	signal  attribute.KeyValue
	lastLog [numReasons]atomic.Int64 // unix nanos of the last refusal log line per reason
	// lastFailureLog: unix nanos of the last failed-insert log line. With on_wal no client
	// hears of a failing insert, so the log (and insert_failures) must say it.
	lastFailureLog atomic.Int64
}

func newTelemetry[T any](set exporter.Settings, e *chExporter[T]) (*telemetry[T], error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &telemetry[T]{e: e, tb: tb, logger: set.Logger, signal: attribute.String("signal", e.sig.name)}, nil
}

func (t *telemetry[T]) laneAttrs(l *lane[T], extra ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(append([]attribute.KeyValue{
		attribute.String("destination", l.dest.name), attribute.String("lane", l.label), t.signal,
	}, extra...)...)
}

// refused counts rows refused by a lane and logs it, at most once a second per reason.
func (t *telemetry[T]) refused(l *lane[T], r reason, rows int) {
	t.tb.SluiceExporterRowsRefused.Add(context.Background(), int64(rows), l.refusedAttrs[r])
	now := time.Now().UnixNano()
	last := t.lastLog[r].Load()
	if now-last < int64(refusalLogInterval) || !t.lastLog[r].CompareAndSwap(last, now) {
		return
	}
	t.logger.Warn("Refusing rows (this line is logged at most once a second per reason)",
		zap.String("reason", reasonNames[r]), zap.String("lane", l.label),
		zap.String("destination", l.dest.name), zap.String("signal", t.e.sig.name), zap.Int("rows", rows))
}

// committed counts the bytes of a batch once all its tables are written.
func (t *telemetry[T]) committed(l *lane[T], bytes int) {
	t.tb.SluiceExporterBytesInserted.Add(context.Background(), int64(bytes), t.laneAttrs(l))
}

func (t *telemetry[T]) overflow(rows int) {
	t.tb.SluiceExporterLanesOverflow.Add(context.Background(), int64(rows), metric.WithAttributes(t.signal))
}

func (t *telemetry[T]) transition(l *lane[T], tr breaker.Transition) {
	t.tb.SluiceExporterBreakerTransitions.Add(context.Background(), 1,
		t.laneAttrs(l, attribute.String("state", tr.To.String())))
	log := t.logger.Info
	if tr.To == breaker.Open {
		log = t.logger.Warn
	}
	log("Lane breaker changed state", zap.String("lane", l.label), zap.String("destination", l.dest.name),
		zap.String("signal", t.e.sig.name), zap.Stringer("from", tr.From), zap.Stringer("to", tr.To))
}

// attempted records only the duration of an insert attempt.
func (t *telemetry[T]) attempted(l *lane[T], r insertResult) {
	t.tb.SluiceExporterInsertDuration.Record(context.Background(), r.duration.Seconds(),
		t.laneAttrs(l, attribute.String("table", r.table)))
}

// inserted records one table's insert attempt; a permanent failure is also a log line
// naming the table and the ClickHouse error code, and rows dropped.
func (t *telemetry[T]) inserted(l *lane[T], r insertResult) {
	ctx := context.Background()
	attrs := t.laneAttrs(l, attribute.String("table", r.table))
	t.tb.SluiceExporterInsertDuration.Record(ctx, r.duration.Seconds(), attrs)
	if r.err == nil {
		t.tb.SluiceExporterRowsInserted.Add(ctx, int64(r.rows), attrs)
		return
	}
	permanent, code := chinsert.Permanent(r.err)
	if !permanent {
		return
	}
	t.tb.SluiceExporterRowsDropped.Add(ctx, int64(r.rows), attrs)
	t.logger.Error("ClickHouse rejected rows permanently; dropping them",
		zap.String("table", r.table), zap.String("lane", l.label), zap.String("destination", l.dest.name),
		zap.Int32("clickhouse_code", int32(code)), zap.String("clickhouse_error", code.String()),
		zap.Int("rows", r.rows), zap.Error(r.err))
}

// insertFailed counts one failed insert attempt by the kind of its error and logs it, at most
// once a second (schema errors are logged by the destination's table layouts).
func (t *telemetry[T]) insertFailed(l *lane[T], err error) {
	failure := failureOf(err)
	t.tb.SluiceExporterInsertFailures.Add(context.Background(), 1, t.laneAttrs(l, attribute.String("failure", failure)))
	now := time.Now().UnixNano()
	last := t.lastFailureLog.Load()
	if failure == "schema" || now-last < int64(refusalLogInterval) || !t.lastFailureLog.CompareAndSwap(last, now) {
		return
	}
	t.logger.Warn("Insert attempt failed; the lane keeps the rows and retries (this line is logged at most once a second)",
		zap.String("failure", failure), zap.String("lane", l.label), zap.String("destination", l.dest.name),
		zap.String("signal", t.e.sig.name), zap.Error(err))
}

// failureOf names the kind of a failed insert's error for sluice_exporter_insert_failures.
func failureOf(err error) string {
	switch {
	case chinsert.IsSchema(err):
		return "schema"
	case isPermanent(err):
		return "rejected"
	case chinsert.OutcomeUnknown(err):
		return "unknown_outcome"
	default:
		return "unavailable"
	}
}

// isolationInsert counts one insert made to isolate a rejected request.
func (t *telemetry[T]) isolationInsert(l *lane[T]) {
	t.tb.SluiceExporterIsolationInserts.Add(context.Background(), 1, t.laneAttrs(l))
}

// synced records one write-ahead log write+fsync.
func (t *telemetry[T]) synced(l *lane[T], d time.Duration) {
	t.tb.SluiceExporterWalSyncDuration.Record(context.Background(), d.Seconds(), t.laneAttrs(l))
}

// damaged counts log records skipped as damaged.
func (t *telemetry[T]) damaged(l *lane[T], records int64) {
	if records > 0 {
		t.tb.SluiceExporterWalRecordsDamaged.Add(context.Background(), records, t.laneAttrs(l))
	}
}

// recovered counts what opening a lane's log repaired.
func (t *telemetry[T]) recovered(l *lane[T], r walRecovery) {
	t.damaged(l, int64(r.DamagedRecords))
	if r.TornTailBytes > 0 {
		t.tb.SluiceExporterWalTailTruncated.Add(context.Background(), r.TornTailBytes, t.laneAttrs(l))
	}
}

// replayed counts rows committed from what a log held when it was opened.
func (t *telemetry[T]) replayed(l *lane[T], rows int) {
	if rows > 0 {
		t.tb.SluiceExporterWalRowsReplayed.Add(context.Background(), int64(rows), t.laneAttrs(l))
	}
}

// registerCallbacks reports the gauges read from the lanes when metrics are collected.
func (t *telemetry[T]) registerCallbacks() error {
	sig := metric.WithAttributes(t.signal)
	forLanes := func(f func(l *lane[T])) {
		t.e.mu.RLock()
		defer t.e.mu.RUnlock()
		for _, l := range t.e.lanes {
			if l.isOpen() { // a lane still opening has nothing to report, and its log is being set
				f(l)
			}
		}
	}
	for _, err := range []error{
		t.tb.RegisterSluiceExporterQueueRowsCallback(func(_ context.Context, o metric.Int64Observer) error {
			forLanes(func(l *lane[T]) { o.Observe(int64(l.queue.Stats().Rows), t.laneAttrs(l)) })
			return nil
		}),
		t.tb.RegisterSluiceExporterQueueBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			forLanes(func(l *lane[T]) { o.Observe(int64(l.queue.Stats().Bytes), t.laneAttrs(l)) })
			return nil
		}),
		t.tb.RegisterSluiceExporterBreakerStateCallback(func(_ context.Context, o metric.Int64Observer) error {
			forLanes(func(l *lane[T]) {
				current := l.breaker.State()
				for _, s := range breakerStates {
					v := int64(0)
					if s == current {
						v = 1
					}
					o.Observe(v, t.laneAttrs(l, attribute.String("state", s.String())))
				}
			})
			return nil
		}),
		t.tb.RegisterSluiceExporterWalBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			forLanes(func(l *lane[T]) {
				if l.log != nil {
					o.Observe(l.log.Stats().Bytes, t.laneAttrs(l))
				}
			})
			return nil
		}),
		t.tb.RegisterSluiceExporterWalSegmentsCallback(func(_ context.Context, o metric.Int64Observer) error {
			forLanes(func(l *lane[T]) {
				if l.log != nil {
					o.Observe(l.log.Stats().Segments, t.laneAttrs(l))
				}
			})
			return nil
		}),
		t.tb.RegisterSluiceExporterWalLagCallback(func(_ context.Context, o metric.Float64Observer) error {
			forLanes(func(l *lane[T]) {
				if l.log != nil {
					lag := 0.0
					if first := l.log.Stats().FirstUnsent; !first.IsZero() {
						lag = time.Since(first).Seconds()
					}
					o.Observe(lag, t.laneAttrs(l))
				}
			})
			return nil
		}),
		t.tb.RegisterSluiceExporterLanesActiveCallback(func(_ context.Context, o metric.Int64Observer) error {
			t.e.mu.RLock()
			n := len(t.e.lanes)
			t.e.mu.RUnlock()
			o.Observe(int64(n), sig)
			return nil
		}),
		t.tb.RegisterSluiceExporterMemoryBudgetUsedCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(t.e.budget.Used(), sig)
			return nil
		}),
		t.tb.RegisterSluiceExporterMemoryBudgetLimitCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(t.e.budget.Limit(), sig)
			return nil
		}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *telemetry[T]) shutdown() { t.tb.Shutdown() }
