package clickhouselanesexporter

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// refusals are a lane's refusal errors, built once: a gRPC status with a RetryInfo detail
// costs dozens of allocations to build, and a refusal must stay cheap when a flood of them
// is the very thing the lane is protecting against. The errors are immutable, so every
// caller can share them.
type refusals struct {
	queueFull error
	budget    error
	walFull   error
	diskFull  error

	// breakerOpen's hint changes with the time left until the probe; hints are whole
	// seconds, so one error per distinct second is cached (the last one built).
	openMsg string
	open    atomic.Pointer[openRefusal]
}

type openRefusal struct {
	seconds int64
	err     error
}

func newRefusals(lane, dest string, cfg *Config) refusals {
	hint := cfg.Lanes.FlushInterval // a batch leaves the lane at least this often
	return refusals{
		queueFull: backpressure.QueueFull(fmt.Sprintf("lane %q queue is full (%d rows, %d bytes max): retry later",
			lane, cfg.Lanes.MaxQueueRows, cfg.Lanes.MaxQueueBytes), hint),
		budget: backpressure.QueueFull(fmt.Sprintf("exporter memory budget of %d bytes is in use: retry later",
			cfg.Lanes.MemoryBudget), hint),
		// A full log empties as fast as its destination takes rows: the breaker's cool-down
		// is the time a failing one needs before it takes any.
		walFull: backpressure.QueueFull(fmt.Sprintf("lane %q write-ahead log is full (wal::max_lane_bytes %d, wal::max_bytes %d for all lanes): retry later",
			lane, cfg.WAL.MaxLaneBytes, cfg.WAL.MaxBytes), cfg.Breaker.CoolDown),
		diskFull: backpressure.QueueFull(fmt.Sprintf("lane %q write-ahead log: the disk of wal::directory %q is full: retry later",
			lane, cfg.WAL.Directory), cfg.Breaker.CoolDown),
		openMsg: fmt.Sprintf("ClickHouse destination %q is failing: lane %q refuses rows until its breaker probes again",
			dest, lane),
	}
}

// breakerOpen returns the 503 with retryAfter, rounded up to whole seconds as sent.
func (r *refusals) breakerOpen(retryAfter time.Duration) error {
	secs := int64((retryAfter + time.Second - 1) / time.Second)
	if c := r.open.Load(); c != nil && c.seconds == secs {
		return c.err
	}
	err := backpressure.Unavailable(r.openMsg, time.Duration(secs)*time.Second)
	r.open.Store(&openRefusal{seconds: secs, err: err})
	return err
}
