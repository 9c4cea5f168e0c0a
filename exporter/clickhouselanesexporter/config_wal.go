package clickhouselanesexporter

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

// WALConfig is the write-ahead log of acknowledge on_wal: each lane appends the rows it
// accepts to its own log under Directory, and its worker inserts them from there.
type WALConfig struct {
	// Directory holds one subdirectory per signal and lane. One collector per directory: it
	// is locked at start.
	Directory string `mapstructure:"directory"`
	// MaxBytes bounds the bytes on disk of every log of this exporter (all signals and
	// lanes); MaxLaneBytes bounds one lane's log, so one dead destination or tenant cannot
	// take the whole budget. Beyond either: 429.
	MaxBytes     int64 `mapstructure:"max_bytes"`
	MaxLaneBytes int64 `mapstructure:"max_lane_bytes"`
	// SegmentBytes is the size past which a log starts a new segment file; committed
	// segments are deleted whole, so this is also the granularity of freeing disk.
	SegmentBytes int64 `mapstructure:"segment_bytes"`
	// Sync: always (an acknowledgement waits for the fsync, shared by concurrent callers) or
	// never (the page cache only: a machine crash loses what the kernel had not written;
	// for benchmarks and tests).
	Sync WALSync `mapstructure:"sync"`
	// ResendWindow: at start each lane remembers the records appended in this window before
	// the crash, and for this long an exact resend of one (a client whose answer the crash cut
	// off) is acknowledged without writing it again (resend.go). 0 turns it off.
	ResendWindow time.Duration `mapstructure:"resend_window"`
}

// WALSync is when appends reach the disk.
type WALSync string

const (
	WALSyncAlways WALSync = "always"
	WALSyncNever  WALSync = "never"
)

// UnmarshalText rejects unknown values when the configuration is loaded.
func (s *WALSync) UnmarshalText(text []byte) error {
	switch v := WALSync(text); v {
	case WALSyncAlways, WALSyncNever:
		*s = v
		return nil
	default:
		return fmt.Errorf("wal::sync must be always or never, found %q", text)
	}
}

// walFlushRows is lanes::flush_rows with on_wal unless configured: nobody waits for a batch,
// so it is as large as one streamed insert comfortably carries, for few large parts.
const walFlushRows = 100_000

// Unmarshal applies the defaults that depend on the acknowledgement mode.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	if c.Acknowledge == AckOnWAL && !conf.IsSet("lanes::flush_rows") {
		c.Lanes.FlushRows = min(walFlushRows, c.Lanes.MaxQueueRows) // which Validate holds it to
	}
	return nil
}

// The largest on_wal batch: below ClickHouse's default min_insert_block_size_rows, and in
// record bytes (the columns, uncompressed) half its default min_insert_block_size_bytes.
const (
	maxWALBatchRows  = 1_000_000
	maxWALBatchBytes = 128 << 20
)

func (c *Config) validateWAL() []error {
	w := c.WAL
	var errs []error
	if c.Acknowledge == AckOnWAL && w.Directory == "" {
		errs = append(errs, errors.New("wal::directory must be set when acknowledge is on_wal"))
	}
	// A log batch is deduplicated across a retry or a restart only while ClickHouse makes it
	// one part: up to min_insert_block_size_rows (1,048,449) rows and _bytes (256 MiB) by
	// default. Past those the part boundaries could fall elsewhere on a resend.
	if c.Acknowledge == AckOnWAL && c.Lanes.FlushRows > maxWALBatchRows {
		errs = append(errs, fmt.Errorf("lanes::flush_rows must be at most %d with acknowledge on_wal (one ClickHouse part per batch), found %d",
			maxWALBatchRows, c.Lanes.FlushRows))
	}
	if c.Acknowledge == AckOnWAL && c.Lanes.MaxQueueBytes > maxWALBatchBytes {
		errs = append(errs, fmt.Errorf("lanes::max_queue_bytes must be at most %d with acknowledge on_wal (one ClickHouse part per batch), found %d",
			maxWALBatchBytes, c.Lanes.MaxQueueBytes))
	}
	for _, p := range []struct {
		key string
		v   int64
	}{{"wal::max_bytes", w.MaxBytes}, {"wal::max_lane_bytes", w.MaxLaneBytes}, {"wal::segment_bytes", w.SegmentBytes}} {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, found %d", p.key, p.v))
		}
	}
	if w.ResendWindow < 0 {
		errs = append(errs, fmt.Errorf("wal::resend_window must not be negative, found %s", w.ResendWindow))
	}
	if w.MaxLaneBytes > w.MaxBytes {
		errs = append(errs, fmt.Errorf("wal::max_lane_bytes (%d) must not exceed wal::max_bytes (%d)", w.MaxLaneBytes, w.MaxBytes))
	}
	if w.SegmentBytes > w.MaxLaneBytes {
		errs = append(errs, fmt.Errorf("wal::segment_bytes (%d) must not exceed wal::max_lane_bytes (%d): a lane could never hold one full segment",
			w.SegmentBytes, w.MaxLaneBytes))
	}
	return errs
}
