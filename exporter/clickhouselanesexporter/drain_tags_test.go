package clickhouselanesexporter

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// countReads makes every log opened during the test count the payload bytes read from it.
func countReads(t *testing.T) *atomic.Int64 {
	var read atomic.Int64
	real := openLog
	openLog = func(dir string, o wal.Options) (walLog, wal.Recovery, error) {
		l, rec, err := real(dir, o)
		if err != nil {
			return nil, rec, err
		}
		return countingLog{l, &read}, rec, nil
	}
	t.Cleanup(func() { openLog = real })
	return &read
}

type countingLog struct {
	walLog
	read *atomic.Int64
}

func (c countingLog) ReadInto(b *wal.ReadBuffer, from wal.Index, maxBytes int) ([]wal.Record, error) {
	recs, err := c.walLog.ReadInto(b, from, maxBytes)
	for _, r := range recs {
		c.read.Add(int64(len(r.Payload)))
	}
	return recs, err
}

// recordsBytes is the size of the records of requests prefix 0..n-1 of 10 rows.
func recordsBytes(prefix string, n int) int64 {
	codec := newRecordCodec(&logsSignal)
	total := 0
	for i := range n {
		total += len(codec.encode(nil, uniqueLogs(fmt.Sprint(prefix, i), 10)))
	}
	return int64(total)
}

// TestOnWALDrainReadsTheRecordsItAppendedOnce: the drain sizes a batch of records this
// process appended from the log's memory and reads them once, to insert them; records found
// in the log at start are read twice (sized, then inserted).
func TestOnWALDrainReadsTheRecordsItAppendedOnce(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	set, _ := settingsWithTelemetry(t)
	appendWhileClickHouseIsDown(t, set, cfg, "replayed ", 3)
	read := countReads(t)

	exp := newWALLogsExporter(t, set, cfg)
	requireLands(t, endpoint, cfg, 30)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, 2*recordsBytes("replayed ", 3), read.Load(), "found at start: read twice")

	// Restarted on the emptied log with a drain that waits for the shutdown: with a backlog
	// at start, or a short flush_interval, it would race the appends, and an insert's read of
	// a batch reads on past its last record (the next batch's) when more is there.
	read.Store(0)
	waiting := *cfg
	waiting.Lanes.FlushRows, waiting.Lanes.FlushInterval = 1000, time.Hour
	exp = newWALLogsExporter(t, set, &waiting)
	consumeLogRequests(t, exp, "new ", 3)
	require.NoError(t, exp.Shutdown(context.Background()))
	requireLands(t, endpoint, cfg, 60)
	assert.Equal(t, recordsBytes("new ", 3), read.Load(), "appended: read once")
}

// TestOnWALRecordDamagedAfterItsAppendIsSkippedAndCounted: a record this process appended,
// and so sized from memory, that is damaged on disk before the drain reads it is found by
// the insert's read: skipped and counted as damaged, the rest of its batch inserted, the log
// committed past it. In the middle of the batch and as the log's last record.
func TestOnWALRecordDamagedAfterItsAppendIsSkippedAndCounted(t *testing.T) {
	for _, damaged := range []int{2, 4} {
		t.Run(fmt.Sprint("record ", damaged), func(t *testing.T) {
			endpoint := chlocal.ForTest(t)
			cfg := walTestConfig(t, endpoint)
			cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 1000, time.Hour // the drain waits for the shutdown
			set, tel := settingsWithTelemetry(t)
			exp := newWALLogsExporter(t, set, cfg)
			consumeLogRequests(t, exp, "record ", 5)
			dir := logsLaneDir(cfg)
			flipInSegment(t, dir, fmt.Sprintf("record %d row 5", damaged))

			require.NoError(t, exp.Shutdown(context.Background())) // drains the log
			requireLands(t, endpoint, cfg, 40)
			assert.Equal(t, int64(1), metricByLane(tel, "otelcol_sluice_exporter_wal_records_damaged")["logs"])
			assert.NoDirExists(t, dir, "committed past the damaged record")
		})
	}
}

// flipInSegment flips a byte of the only segment in dir where it holds s, in place (the
// log's appender keeps the file open).
func flipInSegment(t *testing.T, dir, s string) {
	t.Helper()
	segments, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	require.Len(t, segments, 1)
	data, err := os.ReadFile(segments[0])
	require.NoError(t, err)
	at := bytes.Index(data, []byte(s))
	require.Positive(t, at, "the record's body is in the segment")
	f, err := os.OpenFile(segments[0], os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{data[at] ^ 0xff}, int64(at))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestOnWALResentBatchWithADamagedEndIsDeduplicated: a batch sized from memory whose first
// or last record is damaged on disk commits in ClickHouse, then the process "crashes" before
// the log's cursor moves. The restart resends the pending batch, this time sized by reading
// it (the damaged record skipped): it must go under the same token, not be written twice.
func TestOnWALResentBatchWithADamagedEndIsDeduplicated(t *testing.T) {
	for _, damaged := range []int{0, 4} {
		t.Run(fmt.Sprint("record ", damaged), func(t *testing.T) {
			endpoint := chlocal.ForTest(t)
			cfg := walTestConfig(t, endpoint)
			cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 1000, time.Hour // the drain waits for the shutdown
			set, _ := settingsWithTelemetry(t)
			first, crashed := newCrashingWALLogsExporter(t, set, cfg)
			consumeLogRequests(t, first, "record ", 5)
			dir := logsLaneDir(cfg)
			flipInSegment(t, dir, fmt.Sprintf("record %d row 5", damaged))
			require.NoError(t, first.Shutdown(context.Background())) // inserts the batch, "crashes"
			<-crashed
			requireLands(t, endpoint, cfg, 40)

			second := newWALLogsExporter(t, set, cfg)
			require.NoError(t, second.Shutdown(context.Background())) // resends the pending batch
			count, distinct := countAndDistinct(t, endpoint, cfg)
			assert.Equal(t, [2]uint64{40, 40}, [2]uint64{count, distinct}, "the resent batch was deduplicated")
		})
	}
}

// TestOnWALEachBatchReadsOnlyItsOwnRecords: with batches of two records and the drain
// inserting while records are appended, every record is read once, by its own batch's
// insert: neither an insert's read nor a batch's sizing reads on into the next batch.
func TestOnWALEachBatchReadsOnlyItsOwnRecords(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 20, time.Hour // two records of 10 rows a batch
	set, _ := settingsWithTelemetry(t)
	read := countReads(t)
	exp := newWALLogsExporter(t, set, cfg)
	consumeLogRequests(t, exp, "batch ", 6)
	require.NoError(t, exp.Shutdown(context.Background()))
	requireLands(t, endpoint, cfg, 60)
	assert.Equal(t, recordsBytes("batch ", 6), read.Load(), "every record read once")
}
