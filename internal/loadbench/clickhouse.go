package loadbench

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sluicehq/sluice/internal/loadgen"
)

// Landed is what arrived in ClickHouse for one signal.
type Landed struct {
	Rows   uint64 `json:"rows"`
	Unique uint64 `json:"unique"`
}

// Duplicates is the number of rows beyond the first of each item.
func (l Landed) Duplicates() uint64 { return l.Rows - l.Unique }

// CountLanded counts rows and distinct load.seq values in database's table for signal. A
// missing table (nothing created yet) counts as empty.
func CountLanded(ctx context.Context, conn driver.Conn, database string, signal loadgen.Signal) (Landed, error) {
	table, col := "otel_traces", "SpanAttributes"
	if signal == loadgen.Logs {
		table, col = "otel_logs", "LogAttributes"
	}
	var exists uint8
	if err := conn.QueryRow(ctx, "SELECT count() > 0 FROM system.tables WHERE database = ? AND name = ?", database, table).Scan(&exists); err != nil {
		return Landed{}, err
	}
	if exists == 0 {
		return Landed{}, nil
	}
	var l Landed
	q := fmt.Sprintf("SELECT count(), uniqExact(%s['%s']) FROM `%s`.`%s`", col, loadgen.SeqAttribute, database, table)
	err := conn.QueryRow(ctx, q).Scan(&l.Rows, &l.Unique)
	return l, err
}

// WaitLanded polls until at least want unique items landed, or nothing new landed for
// quiet, or ctx ends. It returns the last count and how long it took.
func WaitLanded(ctx context.Context, conn driver.Conn, database string, signal loadgen.Signal, want uint64, quiet time.Duration) (Landed, time.Duration, error) {
	start := time.Now()
	var last Landed
	lastChange := time.Now()
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		l, err := CountLanded(qctx, conn, database, signal)
		cancel()
		if err == nil {
			if l != last {
				lastChange = time.Now()
			}
			last = l
			if l.Unique >= want {
				return l, time.Since(start), nil
			}
		}
		if time.Since(lastChange) > quiet {
			return last, time.Since(start), fmt.Errorf("landed %d unique of %d; nothing new for %s", last.Unique, want, quiet)
		}
		select {
		case <-ctx.Done():
			return last, time.Since(start), ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// CountInsertParts counts the parts inserts created in database: level-0 parts, active or
// already merged away (inactive parts stay listed for old_parts_lifetime, 8 minutes by
// default, longer than any bench iteration).
func CountInsertParts(ctx context.Context, conn driver.Conn, database string) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = ? AND level = 0", database).Scan(&n)
	return n, err
}
