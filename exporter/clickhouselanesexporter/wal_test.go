package clickhouselanesexporter

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// walTestConfig is testConfig with acknowledge on_wal into a fresh directory.
func walTestConfig(t *testing.T, endpoint string) *Config {
	cfg := testConfig(t, endpoint)
	cfg.Acknowledge = AckOnWAL
	cfg.WAL.Directory = t.TempDir()
	cfg.WAL.Sync = WALSyncNever // the engine's fsync is its own tests' business
	cfg.DialTimeout = time.Second
	cfg.Retry = RetryConfig{MaxAttempts: 1, InitialInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 300 * time.Millisecond}
	return cfg
}

// uniqueLogs is n log records whose bodies are unique under prefix.
func uniqueLogs(prefix string, n int) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		rec := lr.AppendEmpty()
		rec.SetTimestamp(1_764_000_000_000_000_000)
		rec.Body().SetStr(fmt.Sprintf("%s row %d", prefix, i))
	}
	return ld
}

// countAndDistinct is count() and uniqExact(Body) of the logs table.
func countAndDistinct(t *testing.T, endpoint string, cfg *Config) (count, distinct uint64) {
	t.Helper()
	q := fmt.Sprintf("SELECT count(), uniqExact(Body) FROM %s", quotedTable(cfg.Database, cfg.LogsTableName))
	if err := openDB(t, endpoint).QueryRow(clickhouse.Context(context.Background()), q).Scan(&count, &distinct); err != nil {
		t.Fatal(err)
	}
	return count, distinct
}

// requireLands waits until the logs table holds want rows, all distinct.
func requireLands(t *testing.T, endpoint string, cfg *Config, want uint64) {
	t.Helper()
	// Polled without failing the test: right after a restart or a freeze the server may
	// refuse a connection or two.
	require.Eventually(t, func() bool {
		conn, err := chlocal.Open(context.Background(), endpoint)
		if err != nil {
			return false
		}
		defer conn.Close()
		var c uint64
		q := fmt.Sprintf("SELECT count() FROM %s", quotedTable(cfg.Database, cfg.LogsTableName))
		return conn.QueryRow(clickhouse.Context(context.Background()), q).Scan(&c) == nil && c >= want
	}, time.Minute, 20*time.Millisecond)
	count, distinct := countAndDistinct(t, endpoint, cfg)
	require.Equal(t, [2]uint64{want, want}, [2]uint64{count, distinct}, "count and distinct rows")
}

func newWALLogsExporter(t *testing.T, set exporter.Settings, cfg *Config) exporter.Logs {
	t.Helper()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

// newCrashingWALLogsExporter is newWALLogsExporter whose first batch "crashes" after its
// insert, before the log's cursor is saved: committed in ClickHouse, pending in the log.
// crashed is closed then; later batches are not committed either.
func newCrashingWALLogsExporter(t *testing.T, set exporter.Settings, cfg *Config) (exporter.Logs, <-chan struct{}) {
	t.Helper()
	crashed := make(chan struct{})
	var once sync.Once
	newExporterHooks = testHooks{beforeCommit: func(string) bool {
		once.Do(func() { close(crashed) })
		return false
	}}
	defer func() { newExporterHooks = testHooks{} }()
	return newWALLogsExporter(t, set, cfg), crashed
}

// TestOnWALAcknowledgesWhileClickHouseIsDown: four clients stream logs; ClickHouse is killed
// mid-stream and restarted. The clients are acknowledged throughout (the log takes the rows),
// and once ClickHouse is back every acknowledged row is there exactly once.
func TestOnWALAcknowledgesWhileClickHouseIsDown(t *testing.T) {
	srv := chlocal.StartForTest(t)
	cfg := walTestConfig(t, srv.Endpoint())
	cfg.InsertTimeout = 10 * time.Second
	cfg.WAL.Sync = WALSyncAlways // acknowledged means fsynced, as in production
	exp, tel := startLogsExporter(t, cfg)

	const clients, requests, rowsPer = 4, 30, 20
	var acknowledged atomic.Int64
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for r := range requests {
				if r == requests/2 {
					<-killed // the second half is sent while ClickHouse is down
				}
				if err := exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprintf("client %d request %d", c, r), rowsPer)); err != nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
				acknowledged.Add(rowsPer)
			}
		})
	}
	require.Eventually(t, func() bool { return acknowledged.Load() >= clients*requests/2*rowsPer }, time.Minute, time.Millisecond)
	require.NoError(t, srv.Kill())
	close(killed)
	wg.Wait() // every request acknowledged with ClickHouse down
	require.EqualValues(t, clients*requests*rowsPer, acknowledged.Load())
	syncs, err := tel.GetMetric("otelcol_sluice_exporter_wal_sync_duration")
	require.NoError(t, err)
	require.Positive(t, syncs.Data.(metricdata.Histogram[float64]).DataPoints[0].Count, "fsyncs are measured")
	require.Eventually(t, func() bool { return breakerOpened(tel) }, time.Minute, 10*time.Millisecond,
		"the lane never met the outage")
	require.NoError(t, srv.Restart(context.Background()))
	requireLands(t, srv.Endpoint(), cfg, uint64(acknowledged.Load()))
}

// TestOnWALRestartReplaysWhatWasNotCommitted: an exporter whose ClickHouse is unreachable
// starts all the same, acknowledges rows into its log and stops; a new one on the same
// directory inserts them.
func TestOnWALRestartReplaysWhatWasNotCommitted(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	set, tel := settingsWithTelemetry(t)
	appendWhileClickHouseIsDown(t, set, cfg, "before restart ", 5)

	second := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, second.Shutdown(context.Background())) }()
	requireLands(t, endpoint, cfg, 50)
	require.Eventually(t, func() bool { return metricByLane(tel, "otelcol_sluice_exporter_wal_rows_replayed")["logs"] == 50 },
		time.Minute, 10*time.Millisecond)
}

// TestOnWALPendingBatchIsNotDuplicatedAfterACrash: the lane stops after a batch committed
// in ClickHouse but before the log's cursor moved past it (where a kill -9 can land), and
// more rows are acknowledged into the log behind it. The next start resends that batch
// first, with exactly its records (so the same block and token, which ClickHouse drops),
// then the rows behind it. Rebuilding the batch from the cursor instead (with the restart's
// larger flush_rows) would make one block of all 150 rows, a new token, and 100 duplicates.
func TestOnWALPendingBatchIsNotDuplicatedAfterACrash(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 100, time.Hour // a batch is exactly 4 requests
	set, tel := settingsWithTelemetry(t)

	first, crashed := newCrashingWALLogsExporter(t, set, cfg)
	for i := range 4 {
		require.NoError(t, first.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("batch ", i), 25)))
	}
	<-crashed
	requireLands(t, endpoint, cfg, 100) // committed before the "crash"
	for i := range 2 {
		require.NoError(t, first.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("after the crash ", i), 25)))
	}
	require.NoError(t, first.Shutdown(context.Background()))

	// The restart may come with other batch settings: the pending batch must not change.
	restarted := *cfg
	restarted.Lanes.FlushRows = 1000
	second := newWALLogsExporter(t, set, &restarted)
	require.NoError(t, second.Shutdown(context.Background())) // drains the log
	count, distinct := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, [2]uint64{150, 150}, [2]uint64{count, distinct}, "the resent batch was deduplicated")
	assert.Equal(t, int64(150), metricByLane(tel, "otelcol_sluice_exporter_wal_rows_replayed")["logs"])
}

// TestOnWALFullLogRefusesWith429: with a dead destination the lane's log fills up to
// wal::max_lane_bytes; then appends are refused at once with RESOURCE_EXHAUSTED and a hint,
// never blocked; a full disk is a refusal too.
func TestOnWALFullLogRefusesWith429(t *testing.T) {
	failing := failAppends(t)
	cfg := walTestConfig(t, "tcp://127.0.0.1:1")
	cfg.DrainTimeout = 50 * time.Millisecond
	cfg.WAL.MaxLaneBytes, cfg.WAL.SegmentBytes = 4096, 4096
	exp, tel := startLogsExporter(t, cfg)

	accepted := 0
	var err error
	for ; accepted < 1000; accepted++ {
		if err = exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("fill ", accepted), 5)); err != nil {
			break
		}
	}
	require.Positive(t, accepted, "the log took rows before it was full")
	requireRetryable(t, err, codes.ResourceExhausted)
	require.Equal(t, int64(5), refusedByReason(t, tel)["wal_full"])

	enospc := error(fmt.Errorf("write segment: %w: %w", wal.ErrNoSpace, syscall.ENOSPC))
	failing.Store(&enospc)
	requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("no space", 5)), codes.ResourceExhausted)
	require.Equal(t, int64(5), refusedByReason(t, tel)["disk_full"])
}

// TestOnWALDeadRouteGrowsOnlyItsOwnLog: tenant "sick" is routed to a ClickHouse that never
// answers; its log grows while the healthy tenant's log drains into the real one.
func TestOnWALDeadRouteGrowsOnlyItsOwnLog(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	cfg.InsertTimeout = 200 * time.Millisecond
	cfg.DrainTimeout = 50 * time.Millisecond
	cfg.Routes = []RouteConfig{{Name: "sick", LaneKeys: []string{"sick"}, Endpoint: hangingServer(t)}}
	exp, tel := startLogsExporter(t, cfg)

	for range 5 {
		require.NoError(t, exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 3)))
		require.NoError(t, exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 3)))
	}
	require.Eventually(t, func() bool { return tenantCounts(t, endpoint, cfg)["svc-healthy"] == 15 }, time.Minute, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		walBytes := metricByLane(tel, "otelcol_sluice_exporter_wal_bytes")
		return walBytes["healthy"] == 0 && walBytes["sick"] > 0
	}, time.Minute, 10*time.Millisecond, "the healthy log drains, the sick one holds its rows")
	require.Zero(t, tenantCounts(t, endpoint, cfg)["svc-sick"])
}

// TestOnWALDirectoryIsLocked: a second exporter on the same directory fails to start with
// a message naming the key.
func TestOnWALDirectoryIsLocked(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	startLogsExporter(t, cfg)
	other, _ := newLogsExporter(t, cfg)
	err := other.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "wal::directory")
	require.NoError(t, other.Shutdown(context.Background()))
}

// failAppends makes every log opened during the test fail its Appends with the error
// stored in the pointer returned (none while it is nil).
func failAppends(t *testing.T) *atomic.Pointer[error] {
	var fail atomic.Pointer[error]
	real := openLog
	openLog = func(dir string, o wal.Options) (walLog, wal.Recovery, error) {
		l, rec, err := real(dir, o)
		if err != nil {
			return nil, rec, err
		}
		return failingLog{l, &fail}, rec, nil
	}
	t.Cleanup(func() { openLog = real })
	return &fail
}

type failingLog struct {
	walLog
	fail *atomic.Pointer[error]
}

func (f failingLog) AppendTagged(p []byte, rows uint32) (wal.Index, error) {
	if err := f.fail.Load(); err != nil {
		return 0, *err
	}
	return f.walLog.AppendTagged(p, rows)
}

// metricByLane sums an int64 sum metric by lane; nil until it is recorded (safe to poll).
func metricByLane(tel *componenttest.Telemetry, name string) map[string]int64 {
	m, err := tel.GetMetric(name)
	if err != nil {
		return nil
	}
	sums := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("lane")
		sums[v.AsString()] += dp.Value
	}
	return sums
}

// TestOnWALDamagedRecordsAreSkippedAndCounted: a log whose middle record is damaged and whose
// tail is torn (a crash in the middle of a write) still opens: the start succeeds, the good
// records are inserted, the damaged one is counted and skipped, the torn tail is cut and
// counted.
func TestOnWALDamagedRecordsAreSkippedAndCounted(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	set, tel := settingsWithTelemetry(t)
	appendWhileClickHouseIsDown(t, set, cfg, "record ", 5)

	segments, err := filepath.Glob(filepath.Join(cfg.WAL.Directory, "logs", "logs", "*.seg"))
	require.NoError(t, err)
	require.Len(t, segments, 1)
	data, err := os.ReadFile(segments[0])
	require.NoError(t, err)
	at := bytes.Index(data, []byte("record 2 row 5"))
	require.Positive(t, at, "the record's body is in the segment")
	data[at] ^= 0xff           // a flipped byte in the middle record
	data = data[:len(data)-10] // and the last record torn
	require.NoError(t, os.WriteFile(segments[0], data, 0o644))

	second := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, second.Shutdown(context.Background())) }()
	requireLands(t, endpoint, cfg, 30) // records 0, 1 and 3
	assert.Equal(t, int64(1), metricByLane(tel, "otelcol_sluice_exporter_wal_records_damaged")["logs"])
	assert.Positive(t, metricByLane(tel, "otelcol_sluice_exporter_wal_tail_truncated")["logs"])
}

// TestOnWALBadRequestIsIsolatedByHalving: a batch of 8 requests, one of which violates a
// constraint, is split in halves until the bad request is alone: 6 inserts (4+4, 2+2, 1+1)
// instead of 8, the 7 good requests committed, the bad one's rows counted as dropped, and the
// log moves on.
func TestOnWALBadRequestIsIsolatedByHalving(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 40, time.Hour // one batch of all 8 requests
	exp, tel := startLogsExporter(t, cfg)
	require.NoError(t, openDB(t, endpoint).Exec(context.Background(), "ALTER TABLE "+
		quotedTable(cfg.Database, cfg.LogsTableName)+" ADD CONSTRAINT no_poison CHECK Body != 'poison'"))
	for i := range 8 {
		ld := uniqueLogs(fmt.Sprint("request ", i), 5)
		if i == 5 {
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2).Body().SetStr("poison")
		}
		require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	}
	require.Eventually(t, func() bool { return metricByLane(tel, "otelcol_sluice_exporter_isolation_inserts")["logs"] >= 6 },
		time.Minute, 10*time.Millisecond)
	requireLands(t, endpoint, cfg, 35)
	assert.Equal(t, int64(5), metricByLane(tel, "otelcol_sluice_exporter_rows_dropped")["logs"])
	assert.Equal(t, int64(6), metricByLane(tel, "otelcol_sluice_exporter_isolation_inserts")["logs"])
}

// TestOnWALBatchesStayWithinTheMemoryBudget: a drained block holds its records' bytes of
// lanes::memory_budget until it is sent, so with a budget of about two records the lane
// streams the backlog two records a block (TestScriptedOnWALBlocksStayWithinTheMemoryBudget
// counts them), and everything lands.
func TestOnWALBatchesStayWithinTheMemoryBudget(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	record := len(newRecordCodec(&logsSignal).encode(nil, uniqueLogs("record 0", 10)))
	cfg.Lanes.MemoryBudget, cfg.Lanes.MaxQueueBytes = int64(2*record+record/2), 1<<20 // only the budget splits
	set, _ := settingsWithTelemetry(t)
	appendWhileClickHouseIsDown(t, set, cfg, "record ", 6)

	second := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, second.Shutdown(context.Background())) }()
	requireLands(t, endpoint, cfg, 60)
}

// TestOnWALDrainedLogsAreRemovedAtShutdown: a lane whose log is fully committed leaves no
// directory behind (tenants that come and go must not accumulate logs to reopen), while a
// lane with rows left keeps its log; a removal a crash interrupted is finished at start.
func TestOnWALDrainedLogsAreRemovedAtShutdown(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	cfg.InsertTimeout, cfg.DrainTimeout = 200*time.Millisecond, 200*time.Millisecond
	cfg.Routes = []RouteConfig{{Name: "sick", LaneKeys: []string{"sick"}, Endpoint: hangingServer(t)}}
	root := filepath.Join(cfg.WAL.Directory, "logs")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "gone"+removingSuffix), 0o750))
	exp, tel := newLogsExporter(t, cfg)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoDirExists(t, filepath.Join(root, "gone"+removingSuffix))
	require.NoError(t, exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 3)))
	require.NoError(t, exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 3)))
	require.Eventually(t, func() bool { return tenantCounts(t, endpoint, cfg)["svc-healthy"] == 3 }, time.Minute, 10*time.Millisecond)
	// Committed in the log too (its segment deleted), not just visible in ClickHouse: a
	// shutdown during the insert's answer would rightly keep the batch pending.
	require.Eventually(t, func() bool {
		b, ok := metricByLane(tel, "otelcol_sluice_exporter_wal_bytes")["healthy"]
		return ok && b == 0
	}, time.Minute, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.NoDirExists(t, filepath.Join(root, "healthy"))
	assert.DirExists(t, filepath.Join(root, "sick"))
}

// TestOnWALLanesOnDiskOutliveALowerMaxLanes: three tenant lanes leave rows in their logs
// (ClickHouse down); the next start has max_lanes 1. Each log on disk is reopened as its
// own lane, not folded into overflow, so every acknowledged row is inserted.
func TestOnWALLanesOnDiskOutliveALowerMaxLanes(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	dead := *cfg
	dead.Endpoint, dead.DrainTimeout = "tcp://127.0.0.1:1", 50*time.Millisecond
	set, _ := settingsWithTelemetry(t)

	first := newWALLogsExporter(t, set, &dead)
	for _, tenant := range []string{"a", "b", "c"} {
		require.NoError(t, first.ConsumeLogs(tenantCtx(tenant), tenantLogs(tenant, 4)))
	}
	require.NoError(t, first.Shutdown(context.Background()), "rows left in the logs are not an error")

	cfg.Lanes.MaxLanes = 1
	second := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, second.Shutdown(context.Background())) }()
	requireLands(t, endpoint, cfg, 12)
}

// TestOnWALRequestLargerThanTheMemoryBudgetIs400: a record that can never fit in
// lanes::memory_budget is refused as too large (400), not 429: a client would retry a 429
// forever.
func TestOnWALRequestLargerThanTheMemoryBudgetIs400(t *testing.T) {
	cfg := walTestConfig(t, "tcp://127.0.0.1:1")
	cfg.DrainTimeout = 50 * time.Millisecond
	cfg.Lanes.MemoryBudget, cfg.Lanes.MaxQueueBytes = 2048, 2048
	exp, tel := startLogsExporter(t, cfg)

	err := exp.ConsumeLogs(context.Background(), uniqueLogs(strings.Repeat("x", 4096), 1))
	require.Error(t, err)
	require.True(t, consumererror.IsPermanent(err), "want a permanent (400) refusal, got %v", err)
	require.Contains(t, err.Error(), "lanes::memory_budget")
	require.Equal(t, int64(1), refusedByReason(t, tel)["too_large"])
}

// TestOnWALFailingInsertsAreLogged: with on_wal no client hears of a failing destination, so
// the failed attempts are logged (at most once a second) and counted.
func TestOnWALFailingInsertsAreLogged(t *testing.T) {
	cfg := walTestConfig(t, "tcp://127.0.0.1:1")
	cfg.DrainTimeout = 50 * time.Millisecond
	cfg.CreateSchema = false
	set, tel := settingsWithTelemetry(t)
	core, logs := observer.New(zap.WarnLevel)
	set.Logger = zap.New(core)
	exp := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("dead", 3)))
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("Insert attempt failed").Len() > 0 },
		time.Minute, 10*time.Millisecond, "a failing insert under on_wal is logged")
	require.Positive(t, insertFailures(t, tel)["unavailable"])
}

// TestOnWALDrainsTheProtobufRecordsOfEarlierVersions: a log written before records held
// columns (OTLP protobuf records) is drained after an upgrade, next to new records.
func TestOnWALDrainsTheProtobufRecordsOfEarlierVersions(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	var old [][]byte
	for i := range 3 {
		pb, err := (&plog.ProtoMarshaler{}).MarshalLogs(uniqueLogs(fmt.Sprint("old ", i), 10))
		require.NoError(t, err)
		old = append(old, append([]byte{recordProtobuf}, pb...))
	}
	writeLogsLaneLog(t, cfg, old...)

	set, _ := settingsWithTelemetry(t)
	exp := newWALLogsExporter(t, set, cfg)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("new", 10)))
	requireLands(t, endpoint, cfg, 40)
}

// TestOnWALStopsAtARecordOfOtherColumns: a record another version wrote for other columns is
// not damage to skip (its rows were acknowledged): the lane inserts what comes before it and
// stops there, says so, and keeps the rest in its log.
func TestOnWALStopsAtARecordOfOtherColumns(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.DrainTimeout = 200 * time.Millisecond // the lane cannot drain: shutdown leaves the rest
	codec := newRecordCodec(&logsSignal)
	other := codec.encode(nil, uniqueLogs("other version", 10))
	other[1] ^= 0xff // the layout hash: columns this version does not have
	writeLogsLaneLog(t, cfg, codec.encode(nil, uniqueLogs("before", 10)), other, codec.encode(nil, uniqueLogs("after", 10)))

	set, tel := settingsWithTelemetry(t)
	core, logs := observer.New(zap.ErrorLevel)
	set.Logger = zap.New(core)
	exp := newWALLogsExporter(t, set, cfg)
	requireLands(t, endpoint, cfg, 10)
	require.Eventually(t, func() bool {
		return logs.FilterMessageSnippet("other columns").Len() > 0
	}, time.Minute, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	count, _ := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, uint64(10), count, "nothing from the record on is inserted")
	assert.Zero(t, metricByLane(tel, "otelcol_sluice_exporter_wal_records_damaged")["logs"], "not counted as damage")
	assert.DirExists(t, filepath.Join(cfg.WAL.Directory, "logs", laneDirName("logs")), "the log keeps the rest")
}

// appendWhileClickHouseIsDown acknowledges n requests of 10 rows (prefix i) into cfg's log
// from an exporter whose ClickHouse is unreachable, and stops it: the rows stay in the log.
func appendWhileClickHouseIsDown(t *testing.T, set exporter.Settings, cfg *Config, prefix string, n int) {
	t.Helper()
	dead := *cfg
	dead.Endpoint, dead.DrainTimeout = "tcp://127.0.0.1:1", 50*time.Millisecond
	first := newWALLogsExporter(t, set, &dead)
	consumeLogRequests(t, first, prefix, n)
	require.NoError(t, first.Shutdown(context.Background()), "rows left in the log are not an error")
}

// consumeLogRequests sends exp n requests of 10 log records, prefix 0 … prefix n-1 (see
// uniqueLogs), each acknowledged.
func consumeLogRequests(t *testing.T, exp exporter.Logs, prefix string, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint(prefix, i), 10)))
	}
}

// logsLaneDir is the directory of the logs signal's lane log in cfg's directory.
func logsLaneDir(cfg *Config) string {
	return filepath.Join(cfg.WAL.Directory, "logs", laneDirName("logs"))
}

// writeLogsLaneLog writes records into the log of the logs signal's lane in cfg's directory,
// as an exporter (of any version) would have left them.
func writeLogsLaneLog(t *testing.T, cfg *Config, records ...[]byte) {
	t.Helper()
	log, _, err := wal.Open(logsLaneDir(cfg), wal.Options{})
	require.NoError(t, err)
	for _, rec := range records {
		_, err = log.Append(rec)
		require.NoError(t, err)
	}
	require.NoError(t, log.Close())
}
