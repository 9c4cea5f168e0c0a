package clickhouselanesexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// smallStreamBlocks makes a streamed insert send a block every n rows during the test.
func smallStreamBlocks(t *testing.T, n int) {
	old := streamBlockRows
	streamBlockRows = n
	t.Cleanup(func() { streamBlockRows = old })
}

// newParts is the number of parts ClickHouse made from inserts into the logs table: level 0
// (not produced by a merge), active or already merged away (inactive parts stay listed for
// old_parts_lifetime, minutes). The embedded server has no system.part_log.
func newParts(t *testing.T, endpoint string, cfg *Config) uint64 {
	t.Helper()
	conn := openDB(t, endpoint)
	ctx := clickhouse.Context(context.Background())
	var n uint64
	q := "SELECT count() FROM system.parts WHERE level = 0 AND database = ? AND table = ?"
	require.NoError(t, conn.QueryRow(ctx, q, cfg.Database, cfg.LogsTableName).Scan(&n))
	return n
}

// A batch of 100 rows streamed in four blocks (a block is whole records: 25 rows each) is
// one INSERT, and ClickHouse makes one part of it (its blocks are squashed up to min_insert_block_size_rows/bytes, defaults here).
func TestOnWALStreamedBatchIsOnePart(t *testing.T) {
	smallStreamBlocks(t, 10)
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 100, time.Hour // a batch is exactly 4 requests
	exp := newWALLogsExporter(t, nopSettings(), cfg)
	for i := range 4 {
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("request ", i), 25)))
	}
	requireLands(t, endpoint, cfg, 100)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, uint64(1), newParts(t, endpoint, cfg), "one part for the four blocks")
}

// The crash test of wal_test.go, with the pending batch streamed in several blocks: the
// restart resends it under the same token (the log's id is kept), and ClickHouse drops it.
func TestOnWALStreamedPendingBatchIsNotDuplicatedAfterACrash(t *testing.T) {
	smallStreamBlocks(t, 10)
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 100, time.Hour
	first, crashed := newCrashingWALLogsExporter(t, nopSettings(), cfg)
	for i := range 4 {
		require.NoError(t, first.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("batch ", i), 25)))
	}
	<-crashed
	requireLands(t, endpoint, cfg, 100)
	require.NoError(t, first.Shutdown(context.Background()))

	second := newWALLogsExporter(t, nopSettings(), cfg)
	require.NoError(t, second.ConsumeLogs(context.Background(), uniqueLogs("after", 25)))
	require.NoError(t, second.Shutdown(context.Background())) // drains the log
	count, distinct := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, [2]uint64{125, 125}, [2]uint64{count, distinct}, "the resent batch was deduplicated")
}

// A lane's log deleted and created again numbers its records from 1 again; its batches
// must not take the old log's tokens, or ClickHouse would drop their new rows as repeats.
func TestOnWALRecreatedLogDoesNotReuseTokens(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 50, time.Hour
	for _, round := range []string{"old log", "new log"} {
		exp := newWALLogsExporter(t, nopSettings(), cfg)
		for i := range 2 {
			require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint(round, i), 25)))
		}
		require.NoError(t, exp.Shutdown(context.Background()))
		require.NoError(t, os.RemoveAll(filepath.Join(cfg.WAL.Directory, "logs")))
	}
	count, distinct := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, [2]uint64{100, 100}, [2]uint64{count, distinct}, "both logs' records 1-2 landed")
}

// loseFirstAnswer inserts for real but reports the first insert's answer as lost, as a
// connection reset after the server committed would.
type loseFirstAnswer struct {
	*destination
	lost bool
}

func (w *loseFirstAnswer) insert(ctx context.Context, src blockSource, report func(insertResult)) error {
	err := w.destination.insert(ctx, src, report)
	if err == nil && !w.lost {
		w.lost = true
		return &chinsert.OutcomeUnknownError{}
	}
	return err
}

// A streamed batch committed whose answer was lost is resent, same records and token, and
// lands once.
func TestOnWALUnknownOutcomeResendLandsOnce(t *testing.T) {
	smallStreamBlocks(t, 10)
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 100, time.Hour
	var w *loseFirstAnswer
	newExporterHooks = testHooks{writer: func(d *destination) blockWriter { w = &loseFirstAnswer{destination: d}; return w }}
	exp := newWALLogsExporter(t, nopSettings(), cfg)
	newExporterHooks = testHooks{}
	for i := range 4 {
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("request ", i), 25)))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	require.True(t, w.lost)
	count, distinct := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, [2]uint64{100, 100}, [2]uint64{count, distinct})
}
