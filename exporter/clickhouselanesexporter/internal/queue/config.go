package queue

import (
	"fmt"
	"time"
)

// Config sizes one lane's queue and its batcher.
type Config struct {
	// MaxRows and MaxBytes bound what the queue holds (items taken by Take no longer count
	// against them; they still count against the Budget until Complete).
	MaxRows, MaxBytes int
	// FlushRows is the batch size: Take returns as soon as this many rows are queued, and
	// never takes more (except a single item that is larger on its own).
	FlushRows int
	// FlushAge is the longest the oldest queued item waits before Take returns anyway.
	FlushAge time.Duration
	// FlushQuiet, if positive, also makes Take return once no item has arrived for this
	// long. It is for callers that wait for their batch (acknowledge on insert): they will
	// send nothing more until answered, so waiting out FlushAge for rows that cannot come
	// only adds latency. Batches then hold whatever arrived while the last one was being
	// inserted (group commit).
	FlushQuiet time.Duration
}

// Validate reports the first invalid field. The exporter's own config validation should
// name its YAML keys; this is the last line of defence.
func (c Config) Validate() error {
	switch {
	case c.MaxRows <= 0:
		return fmt.Errorf("max rows must be positive, found %d", c.MaxRows)
	case c.MaxBytes <= 0:
		return fmt.Errorf("max bytes must be positive, found %d", c.MaxBytes)
	case c.FlushRows <= 0 || c.FlushRows > c.MaxRows:
		// Above MaxRows the size trigger could never fire.
		return fmt.Errorf("flush rows must be in (0, max rows=%d], found %d", c.MaxRows, c.FlushRows)
	case c.FlushAge <= 0:
		return fmt.Errorf("flush age must be positive, found %s", c.FlushAge)
	case c.FlushQuiet < 0:
		return fmt.Errorf("flush quiet must not be negative, found %s", c.FlushQuiet)
	}
	return nil
}
