package sluicereceiver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// finish records a request's outcome: metrics always; for errors also the span status with
// a description and a rate-limited log line.
func (r *otlpReceiver) finish(ctx context.Context, sig, transport string, start time.Time, out backpressure.Response) {
	outcome := "accepted"
	if out.IsError() {
		outcome = "refused"
	}
	r.telemetry.SluiceReceiverRequests.Add(ctx, 1, r.attrs.requests[requestKey{outcome, sig, transport, out.Reason}]...)
	r.telemetry.SluiceReceiverRequestDuration.Record(ctx, time.Since(start).Seconds(), r.attrs.duration[requestKey{outcome, sig, transport, ""}]...)
	if !out.IsError() {
		return
	}
	trace.SpanFromContext(ctx).SetStatus(codes.Error, out.Message)
	r.refusals.log(out, sig, transport)
}

// refusalLog writes at most one line per reason per interval, counting what it skipped, so
// a flood of refusals cannot become a flood of logs.
type refusalLog struct {
	logger   *zap.Logger
	interval time.Duration
	// bySignal holds each signal's own logger (the collector gives each its otelcol.signal),
	// set by the factory before Start and only read after.
	bySignal map[string]*zap.Logger

	mu         sync.Mutex
	last       map[backpressure.Reason]time.Time // guarded by mu
	suppressed map[backpressure.Reason]int       // guarded by mu
}

func newRefusalLog(logger *zap.Logger) *refusalLog {
	return &refusalLog{
		logger:     logger,
		interval:   time.Second,
		bySignal:   make(map[string]*zap.Logger),
		last:       make(map[backpressure.Reason]time.Time),
		suppressed: make(map[backpressure.Reason]int),
	}
}

// useFor makes sig's refusals log through logger; call it before the receiver starts.
func (l *refusalLog) useFor(sig string, logger *zap.Logger) { l.bySignal[sig] = logger }

func (l *refusalLog) log(out backpressure.Response, sig, transport string) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.last[out.Reason]) < l.interval {
		l.suppressed[out.Reason]++
		l.mu.Unlock()
		return
	}
	l.last[out.Reason] = now
	skipped := l.suppressed[out.Reason]
	l.suppressed[out.Reason] = 0
	l.mu.Unlock()
	logger := l.logger
	if own, ok := l.bySignal[sig]; ok {
		logger = own
	}
	// Logged outside the lock: the logger may block on its sink.
	logger.Warn("request refused",
		zap.String("reason", string(out.Reason)), zap.Int("status", out.HTTPStatus),
		zap.String("signal", sig), zap.String("transport", transport),
		zap.String("message", out.Message), zap.Int("suppressed_since_last", skipped))
}
