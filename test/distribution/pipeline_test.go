package distribution

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// gatewayConfig is testdata/gateway.yaml — the pipeline `make run` starts — with free
// ports (metrics on metricsPort), so the test never collides with a `make run` on the same
// machine, a database of its own and its write-ahead logs in a temporary directory.
func gatewayConfig(t *testing.T, grpcPort, httpPort, metricsPort int, endpoint, database string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "gateway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(
		"localhost:4317", fmt.Sprintf("127.0.0.1:%d", grpcPort),
		"localhost:4318", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"localhost:55679", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"port: 8888", fmt.Sprintf("port: %d", metricsPort),
		"${env:CLICKHOUSE_ENDPOINT}", endpoint,
		"database: otel", "database: "+database,
		"directory: _build/wal", "directory: "+t.TempDir(),
	).Replace(string(raw))
	for _, leftover := range []string{"localhost:", "port: 8888", "${env:", "database: otel\n", "directory: _build/wal"} {
		if strings.Contains(config, leftover) {
			t.Fatalf("testdata/gateway.yaml changed: %q is still in the test's copy", leftover)
		}
	}
	return config
}

// TestOTLPIntoClickHouse sends spans with the OpenTelemetry Go SDK over gRPC and logs as
// OTLP/HTTP protobuf to the built collector running `make run`'s gateway (acknowledge
// on_wal), reads the rows back from ClickHouse, and finds the write-ahead log's metrics.
func TestOTLPIntoClickHouse(t *testing.T) {
	collectorBin(t)
	endpoint := chlocal.ForTest(t)
	grpcPort, httpPort, metricsPort := freePort(t), freePort(t), freePort(t)
	database := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	config := gatewayConfig(t, grpcPort, httpPort, metricsPort, endpoint, database)
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", grpcPort)
	startCollector(t, config, grpcAddr, fmt.Sprintf("127.0.0.1:%d", httpPort))

	const spans = 250
	sendSpans(t, grpcAddr, spans)
	const logs = 40
	sendLogs(t, fmt.Sprintf("http://127.0.0.1:%d/v1/logs", httpPort), logs)

	ctx, conn := openClickHouse(t, endpoint)
	// Acknowledged once in the lanes' logs: the rows arrive with the lanes' next batches.
	waitCount(t, ctx, conn, fmt.Sprintf("SELECT count() FROM `%s`.otel_traces WHERE ServiceName = 'e2e'", database), spans)
	waitCount(t, ctx, conn, fmt.Sprintf("SELECT count() FROM `%s`.otel_logs WHERE Body LIKE 'e2e log %%'", database), logs)

	// The log's gauges and fsync latency are exposed per lane under the dashboard's names.
	got := scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	for _, name := range walMetrics {
		if total(got, name) < 0 {
			t.Errorf("gateway does not expose %s", name)
		}
	}
	if n := total(got, "otelcol_sluice_exporter_wal_sync_duration_count"); n < 1 {
		t.Errorf("no fsync recorded in otelcol_sluice_exporter_wal_sync_duration (%v)", n)
	}
}

// walMetrics are the write-ahead log's metrics that a gateway with acknowledge on_wal exposes
// as soon as it has appended.
var walMetrics = []string{
	"otelcol_sluice_exporter_wal_bytes", "otelcol_sluice_exporter_wal_segments",
	"otelcol_sluice_exporter_wal_lag", "otelcol_sluice_exporter_wal_sync_duration_bucket",
}

func sendSpans(t *testing.T, addr string, n int) {
	t.Helper()
	sendServiceSpans(t, addr, "e2e", n)
}

// sendServiceSpans sends n spans of service over gRPC with the OpenTelemetry Go SDK's
// exporter, configured by opts (compression, for one), and fails if any was refused.
func sendServiceSpans(t *testing.T, addr, service string, n int, opts ...otlptracegrpc.Option) {
	t.Helper()
	ctx := context.Background()
	opts = append([]otlptracegrpc.Option{otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure()}, opts...)
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(100)),
		sdktrace.WithResource(serviceResource(service)),
	)
	tracer := tp.Tracer("distribution-test")
	for i := range n {
		_, span := tracer.Start(ctx, fmt.Sprintf("op-%d", i%7))
		span.SetAttributes(attribute.Int("i", i), attribute.String("kind", "e2e"))
		span.End()
	}
	// Shutdown flushes and reports an export error if the collector refused anything.
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("span export: %v", err)
	}
}

func sendLogs(t *testing.T, url string, n int) {
	t.Helper()
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "e2e")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		r := records.AppendEmpty()
		r.SetTimestamp(nowTimestamp())
		r.Body().SetStr(fmt.Sprintf("e2e log %d", i))
		r.SetSeverityText("INFO")
	}
	body, err := plogotlp.NewExportRequestFromLogs(logs).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}
