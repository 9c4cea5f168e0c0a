package lane

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
	}
	return nil
}
