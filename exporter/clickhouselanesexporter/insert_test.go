package clickhouselanesexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadatatest"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestSameBatchTwiceAddsNoRows proves the deduplication token against the real server: a
// retry of a batch whose first insert committed adds nothing, while new data still lands.
func TestSameBatchTwiceAddsNoRows(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	for _, dedup := range []bool{true, false} {
		t.Run(fmt.Sprintf("deduplicate=%v", dedup), func(t *testing.T) {
			cfg := testConfig(t, endpoint)
			cfg.Deduplicate = dedup
			if !dedup {
				// Plain MergeTree with a window also drops byte-identical blocks by their hash,
				// so the control turns the window off too.
				cfg.DeduplicationWindow = 0
			}
			exp, err := NewFactory().CreateTraces(context.Background(), nopSettings(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			startComponent(t, exp)
			td := testTraces()
			for range 2 {
				if err := exp.ConsumeTraces(context.Background(), td); err != nil {
					t.Fatal(err)
				}
			}
			want := uint64(2)
			if !dedup {
				want = 4 // the control: without a token the retry duplicates
			}
			conn := openDB(t, endpoint)
			if n := countRows(t, conn, cfg.Database, cfg.TracesTableName); n != want {
				t.Fatalf("after the same batch twice: %d rows, want %d", n, want)
			}
			other := testTraces()
			other.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetName("different")
			if err := exp.ConsumeTraces(context.Background(), other); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, conn, cfg.Database, cfg.TracesTableName); n != want+2 {
				t.Fatalf("after a different batch: %d rows, want %d", n, want+2)
			}
		})
	}
}

// TestRejectedRowsArePermanentAndCounted checks that rows ClickHouse rejects for their values
// (here a CHECK constraint no row passes) come back as a permanent error, are counted as
// dropped and logged with table and code. (A table that does not fit is no such error: see
// TestDroppedTableKeepsTheRows.)
func TestRejectedRowsArePermanentAndCounted(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	conn := openDB(t, endpoint)
	ctx := context.Background()
	createTables(t, endpoint, cfg, "traces")
	if err := conn.Exec(ctx, "ALTER TABLE "+quotedTable(cfg.Database, cfg.TracesTableName)+" ADD CONSTRAINT never CHECK TraceId = 'never'"); err != nil {
		t.Fatal(err)
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := metadatatest.NewSettings(tel)
	core, logs := observer.New(zap.ErrorLevel)
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateTraces(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	err = exp.ConsumeTraces(ctx, testTraces())
	if !consumererror.IsPermanent(err) {
		t.Fatalf("want a permanent error, got %v", err)
	}
	metadatatest.AssertEqualSluiceExporterRowsDropped(t, tel, []metricdata.DataPoint[int64]{{
		Value: 2,
		Attributes: attribute.NewSet(attribute.String("destination", "default"), attribute.String("lane", "traces"),
			attribute.String("signal", "traces"), attribute.String("table", cfg.TracesTableName)),
	}}, metricdatatest.IgnoreTimestamp())
	entries := logs.FilterMessageSnippet("rejected rows permanently").All()
	if len(entries) != 1 {
		t.Fatalf("want one log line, got %d", len(entries))
	}
	f := entries[0].ContextMap()
	if f["table"] != cfg.TracesTableName || f["clickhouse_code"] != int32(469) ||
		!strings.Contains(fmt.Sprint(f["clickhouse_error"]), "VIOLATED_CONSTRAINT") {
		t.Errorf("log fields = %v", f)
	}
}

// TestServerDownTripsTheBreaker: with the server dead, the lane answers 503 with a retry hint
// after its attempts, its breaker opens and refuses at once; once the server is back, a client
// that honours the hint writes again through the same exporter.
func TestServerDownTripsTheBreaker(t *testing.T) {
	srv := chlocal.StartForTest(t)
	cfg := testConfig(t, srv.Endpoint())
	cfg.InsertTimeout = 5 * time.Second
	cfg.DialTimeout = time.Second
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 300 * time.Millisecond}
	exp, err := NewFactory().CreateLogs(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	if err := exp.ConsumeLogs(context.Background(), testLogs()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// Two failed attempts: the batch fails back with 503 and the breaker opens.
	err = exp.ConsumeLogs(context.Background(), testLogs())
	requireRetryable(t, err, codes.Unavailable)
	// Now the lane refuses before queueing, naming the breaker.
	err = exp.ConsumeLogs(context.Background(), testLogs())
	requireRetryable(t, err, codes.Unavailable)
	if !strings.Contains(err.Error(), "breaker") {
		t.Fatalf("want a breaker refusal, got %v", err)
	}
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Restart keeps the ports, so the lane's probe reconnects and closes the breaker. The
	// content differs from the first request, or deduplication would rightly drop it.
	fresh := testLogs()
	fresh.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr("after restart")
	if err := consumeRetrying(t, func() error { return exp.ConsumeLogs(context.Background(), fresh) }); err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
	if n := countRows(t, openDB(t, srv.Endpoint()), cfg.Database, cfg.LogsTableName); n != 4 {
		t.Fatalf("%d rows, want 4 (the first and the last request)", n)
	}
}

// TestOneRejectingTableDoesNotBlockTheOthers: a metric table that rejects its rows permanently
// (a CHECK constraint no row passes) loses only its own rows; the other tables of the batch
// are still written.
func TestOneRejectingTableDoesNotBlockTheOthers(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	ctx := context.Background()
	exp, err := NewFactory().CreateMetrics(ctx, nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	conn := openDB(t, endpoint)
	gauge := quotedTable(cfg.Database, cfg.MetricsTables.Gauge.Name)
	if err := conn.Exec(ctx, "ALTER TABLE "+gauge+" ADD CONSTRAINT never CHECK MetricName = 'never'"); err != nil {
		t.Fatal(err)
	}
	err = exp.ConsumeMetrics(ctx, testMetrics())
	if !consumererror.IsPermanent(err) || !strings.Contains(err.Error(), cfg.MetricsTables.Gauge.Name) {
		t.Fatalf("want a permanent error naming the gauge table, got %v", err)
	}
	for _, table := range []string{cfg.MetricsTables.Sum.Name, cfg.MetricsTables.Histogram.Name,
		cfg.MetricsTables.ExponentialHistogram.Name, cfg.MetricsTables.Summary.Name} {
		if n := countRows(t, conn, cfg.Database, table); n != 1 {
			t.Errorf("%s has %d rows, want 1", table, n)
		}
	}
}

// TestFailoverToNextHost: with the first host dead, schema creation and inserts go to the next.
func TestFailoverToNextHost(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	// Port 1 on loopback refuses at once.
	cfg.Endpoint = "tcp://127.0.0.1:1," + strings.TrimPrefix(cfg.Endpoint, "tcp://")
	exp, err := NewFactory().CreateLogs(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	if err := exp.ConsumeLogs(context.Background(), testLogs()); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, openDB(t, endpoint), cfg.Database, cfg.LogsTableName); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestOneBadRequestFailsAlone: when ClickHouse rejects a batch for the data of one request
// (here a CHECK constraint), the lane retries the batch request by request: the good
// request is committed and answered OK, only the bad one gets the permanent error, and only
// its rows are counted as dropped.
func TestOneBadRequestFailsAlone(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	// Both requests must land in one batch: no early flush on a pause, a wide window.
	cfg.Lanes.FlushQuiet, cfg.Lanes.FlushInterval = 0, 500*time.Millisecond
	exp, tel := startLogsExporter(t, cfg)
	conn := openDB(t, endpoint)
	if err := conn.Exec(context.Background(), "ALTER TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)+
		" ADD CONSTRAINT no_poison CHECK Body != 'poison'"); err != nil {
		t.Fatal(err)
	}
	good, bad := tenantLogs("good", 3), tenantLogs("bad", 2)
	bad.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Body().SetStr("poison")
	errs := make(chan error, 2)
	go func() { errs <- exp.ConsumeLogs(context.Background(), good) }()
	go func() { errs <- exp.ConsumeLogs(context.Background(), bad) }()
	var failed []error
	for range 2 {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || !consumererror.IsPermanent(failed[0]) || !strings.Contains(failed[0].Error(), "VIOLATED_CONSTRAINT") {
		t.Fatalf("want exactly one permanent VIOLATED_CONSTRAINT error, got %v", failed)
	}
	if got := tenantCounts(t, endpoint, cfg); got["svc-good"] != 3 || got["svc-bad"] != 0 {
		t.Fatalf("rows per tenant = %v, want the good request's 3 only", got)
	}
	if dropped := sumByAttribute(t, tel, "otelcol_sluice_exporter_rows_dropped", "lane")["logs"]; dropped != 2 {
		t.Fatalf("%d rows counted as dropped, want the bad request's 2", dropped)
	}
	m, err := tel.GetMetric("otelcol_sluice_exporter_insert_duration")
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Data.(metricdata.Histogram[float64]).DataPoints[0].Count; n != 3 {
		t.Fatalf("%d insert attempts, want 3: the rejected batch, then one per request", n)
	}
	if n := sumByAttribute(t, tel, "otelcol_sluice_exporter_isolation_inserts", "lane")["logs"]; n != 2 {
		t.Fatalf("%d isolation inserts counted, want 2", n)
	}
}
