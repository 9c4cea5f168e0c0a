package clickhouselanesexporter

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestDroppedTableKeepsTheRows: a table dropped under a running exporter is a schema error,
// not bad data: clients get 503 with a retry hint and a message saying the rows are kept, the
// breaker opens, nothing is counted as dropped, and once the table is back the rows land.
func TestDroppedTableKeepsTheRows(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 300 * time.Millisecond}
	exp, tel := startLogsExporter(t, cfg)
	ctx := context.Background()
	if err := exp.ConsumeLogs(ctx, testLogs()); err != nil {
		t.Fatal(err)
	}
	conn := openDB(t, endpoint)
	table := quotedTable(cfg.Database, cfg.LogsTableName)
	if err := conn.Exec(ctx, "DROP TABLE "+table); err != nil {
		t.Fatal(err)
	}

	pending := testLogs()
	pending.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr("while the table was gone")
	err := exp.ConsumeLogs(ctx, pending)
	requireRetryable(t, err, codes.Unavailable)
	// The first attempt fails with UNKNOWN_TABLE, the second when the columns are read again.
	if !strings.Contains(err.Error(), "otel_logs` does not exist") || !strings.Contains(err.Error(), "rows are kept") {
		t.Fatalf("want a 503 saying the table does not exist and the rows are kept, got %v", err)
	}
	// Two failed attempts opened the breaker: the next request is refused before queueing.
	err = exp.ConsumeLogs(ctx, pending)
	requireRetryable(t, err, codes.Unavailable)
	if !strings.Contains(err.Error(), "breaker") {
		t.Fatalf("want a breaker refusal, got %v", err)
	}
	if got := refusedByReason(t, tel)["schema"]; got != 4 {
		t.Fatalf("%d rows refused for reason schema, want 4 (two requests of 2)", got)
	}
	if _, err := tel.GetMetric("otelcol_sluice_exporter_rows_dropped"); err == nil {
		t.Fatal("rows were counted as dropped")
	}
	if got := insertFailures(t, tel)["schema"]; got != 2 {
		t.Fatalf("%d insert attempts counted as failed for schema, want the 2 attempts", got)
	}

	createTables(t, endpoint, cfg, "logs")
	if err := consumeRetrying(t, func() error { return exp.ConsumeLogs(ctx, pending) }); err != nil {
		t.Fatalf("after the table is back: %v", err)
	}
	if n := countRows(t, conn, cfg.Database, cfg.LogsTableName); n != 2 {
		t.Fatalf("%d rows in the recreated table, want the kept request's 2", n)
	}
}

// TestRoutedDDLFailureIsCounted: a routed destination whose CREATE fails (here the configured
// engine needs a Keeper the server does not have) keeps the tenant's rows as a schema error:
// 503 with a hint, counted for reason schema, and the breaker opens. The top-level tables
// already exist, so IF NOT EXISTS lets the top-level destination start.
func TestRoutedDDLFailureIsCounted(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	createTables(t, endpoint, cfg, "")
	cfg.TableEngine = TableEngine{Name: "ReplicatedMergeTree"}
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: time.Minute}
	cfg.Routes = []RouteConfig{{Name: "tenant", LaneKeys: []string{"acme"}, Endpoint: cfg.Endpoint, Database: cfg.Database + "_acme"}}
	exp, tel := startLogsExporter(t, cfg)

	err := exp.ConsumeLogs(tenantCtx("acme"), tenantLogs("acme", 3))
	requireRetryable(t, err, codes.Unavailable)
	if !strings.Contains(err.Error(), "create "+cfg.LogsTableName) || !strings.Contains(err.Error(), "rows are kept") {
		t.Fatalf("want a 503 naming the failed CREATE and saying the rows are kept, got %v", err)
	}
	if got := refusedByReason(t, tel)["schema"]; got != 3 {
		t.Fatalf("%d rows refused for reason schema, want 3", got)
	}
	err = exp.ConsumeLogs(tenantCtx("acme"), tenantLogs("acme", 1))
	if requireRetryable(t, err, codes.Unavailable); !strings.Contains(err.Error(), "breaker") {
		t.Fatalf("want a breaker refusal after two failed CREATEs, got %v", err)
	}
}

// TestClientSeesOneSentence: the message a client gets for rows ClickHouse rejects is one
// sentence naming the table and the ClickHouse error, without the Go error chain's
// "Permanent error: rpc error: code = ..." prefixes or the driver's.
func TestClientSeesOneSentence(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	exp, _ := startLogsExporter(t, cfg)
	ctx := context.Background()
	if err := openDB(t, endpoint).Exec(ctx, "ALTER TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)+
		" ADD CONSTRAINT no_poison CHECK Body != 'poison'"); err != nil {
		t.Fatal(err)
	}
	ld := testLogs()
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr("poison")
	err := exp.ConsumeLogs(ctx, ld)
	got := backpressure.Classify(err, time.Second).GRPC.Message() // what the sluice receiver answers
	const want = "insert into otel_logs: ClickHouse VIOLATED_CONSTRAINT (469): Constraint `no_poison` for table "
	if !strings.HasPrefix(got, want) {
		t.Fatalf("client sees %q, want it to start with %q", got, want)
	}
	for _, noise := range []string{"rpc error", "Permanent error", "handle packet", "DB::Exception"} {
		if strings.Contains(got, noise) {
			t.Errorf("client message carries %q: %s", noise, got)
		}
	}
}

// createTables runs the exporter's own DDL for signal's tables ("": every table) on cfg's
// database, as create_schema would.
func createTables(t *testing.T, endpoint string, cfg *Config, signal string) {
	t.Helper()
	conn := openDB(t, endpoint)
	for _, s := range chschema.Statements(cfg.schemaOptions(false)) {
		if signal != "" && s.Signal != "" && s.Signal != signal {
			continue
		}
		if err := conn.Exec(context.Background(), s.SQL); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDroppedTableKeepsQueuedRows: with acknowledge on_enqueue the callers are gone, so the
// lane itself keeps a batch the table refuses, logs why, and writes it once the table is
// back: nothing is dropped.
func TestDroppedTableKeepsQueuedRows(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Acknowledge = AckOnEnqueue
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 100 * time.Millisecond}
	core, logs := observer.New(zap.WarnLevel)
	set, tel := settingsWithTelemetry(t)
	set.Logger = zap.New(core)
	ctx := context.Background()
	exp, err := NewFactory().CreateLogs(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	conn := openDB(t, endpoint)
	if err := conn.Exec(ctx, "DROP TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)); err != nil {
		t.Fatal(err)
	}
	if err := exp.ConsumeLogs(ctx, testLogs()); err != nil {
		t.Fatal(err) // queued: on_enqueue acknowledges now
	}
	// The lane keeps failing on the missing table and says so.
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("refuses good rows").Len() > 0 },
		time.Minute, 10*time.Millisecond, "the schema error was not logged")
	createTables(t, endpoint, cfg, "logs")
	// The lane's next probe writes the kept batch.
	require.Eventually(t, func() bool { return countRows(t, conn, cfg.Database, cfg.LogsTableName) == 2 },
		time.Minute, 10*time.Millisecond, "the kept rows did not land")
	if _, err := tel.GetMetric("otelcol_sluice_exporter_rows_dropped"); err == nil {
		t.Fatal("rows were counted as dropped")
	}
}

// insertFailures is sluice_exporter_insert_failures by failure.
func insertFailures(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	return sumByAttribute(t, tel, "otelcol_sluice_exporter_insert_failures", "failure")
}

// TestOnWALDroppedTableShowsAsSchemaFailures: with on_wal no client is refused when the table
// is dropped (the log takes the rows), so the failed attempts are where the schema error
// shows: counted as failure schema, the rows kept, and inserted once the table is back.
func TestOnWALDroppedTableShowsAsSchemaFailures(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	exp, tel := startLogsExporter(t, cfg)
	ctx := context.Background()
	require.NoError(t, exp.ConsumeLogs(ctx, uniqueLogs("before", 3)))
	requireLands(t, endpoint, cfg, 3)
	conn := openDB(t, endpoint)
	require.NoError(t, conn.Exec(ctx, "DROP TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)))

	require.NoError(t, exp.ConsumeLogs(ctx, uniqueLogs("while the table was gone", 4)), "on_wal acknowledges into the log")
	require.Eventually(t, func() bool {
		_, err := tel.GetMetric("otelcol_sluice_exporter_insert_failures")
		return err == nil && insertFailures(t, tel)["schema"] >= 2
	}, time.Minute, 10*time.Millisecond, "the drain's failed attempts are counted as schema failures")
	if _, err := tel.GetMetric("otelcol_sluice_exporter_rows_dropped"); err == nil {
		t.Fatal("rows were counted as dropped")
	}

	createTables(t, endpoint, cfg, "logs")
	requireLands(t, endpoint, cfg, 4)
}

// Reading the tables' columns before an insert is bounded by insert_timeout: a server that
// accepts the connection and never answers cannot hold the destination's paths (which wait
// for the read under one mutex) for longer than that, whatever dial_timeout and read_timeout.
func TestReadingTheColumnsIsBoundedByInsertTimeout(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint, cfg.CreateSchema = hangingServer(t), false
	cfg.DialTimeout, cfg.ReadTimeout, cfg.InsertTimeout = time.Hour, time.Hour, 50*time.Millisecond
	d, err := newDestination(context.Background(), defaultDestination, logsSignal.name, cfg, logsSignal.tables, zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.close()) })
	nothing := blockSource{fill: func([]*tableWriter) (bool, error) { return false, nil }}
	err = d.insert(context.Background(), nothing, func(insertResult) {})
	// ch-go turns the context's deadline into the connection's: either error may come out.
	require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
}
