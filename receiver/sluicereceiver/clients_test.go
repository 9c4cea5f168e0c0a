package sluicereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// The hint the refusing pipeline sends; clients must wait at least this long to retry.
const hint = time.Second

// refuseOnceThenAccept is a pipeline that is full the first time (QueueFull, i.e.
// RESOURCE_EXHAUSTED + RetryInfo / 429 + Retry-After) and accepts after.
func refuseOnceThenAccept() *sink {
	return &sink{script: []error{backpressure.QueueFull("lane traces full", hint)}}
}

// assertRetriedAfterHintExactlyOnce checks the data arrived exactly once, after one refusal,
// and that the client waited for the hint before retrying.
func assertRetriedAfterHintExactlyOnce(t *testing.T, s *sink, spans int, elapsed time.Duration) {
	t.Helper()
	calls, got, _, _ := s.counts()
	assert.Equal(t, 2, calls, "one refusal, one accepted retry")
	assert.Equal(t, spans, got, "exactly once")
	assert.GreaterOrEqual(t, elapsed, hint, "the client honoured the retry hint")
}

func sdkSpans(n int) []sdktrace.ReadOnlySpan {
	stubs := make(tracetest.SpanStubs, n)
	for i := range stubs {
		stubs[i].Name = "sdk-span"
	}
	return stubs.Snapshots()
}

func TestSDKGRPCExporterRetriesAfterTheHint(t *testing.T) {
	// zstd is not built into the SDK; it works here because configgrpc registers it with
	// grpc-go for the whole process, as any program importing it would.
	for _, compressor := range []string{"none", "gzip", "zstd"} {
		t.Run("compression="+compressor, func(t *testing.T) {
			t.Parallel()
			s := refuseOnceThenAccept()
			r := startReceiver(t, s, nil)
			opts := []otlptracegrpc.Option{
				otlptracegrpc.WithEndpoint(r.grpcAddr.String()), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 3 * time.Second, MaxElapsedTime: 20 * time.Second}),
			}
			if compressor != "none" {
				opts = append(opts, otlptracegrpc.WithCompressor(compressor))
			}
			exp, err := otlptracegrpc.New(context.Background(), opts...)
			require.NoError(t, err)
			start := time.Now()
			require.NoError(t, exp.ExportSpans(context.Background(), sdkSpans(7)))
			assertRetriedAfterHintExactlyOnce(t, s, 7, time.Since(start))
			require.NoError(t, exp.Shutdown(context.Background()))
		})
	}
}

func TestSDKHTTPExporterRetriesAfterTheHint(t *testing.T) {
	s := refuseOnceThenAccept()
	r := startReceiver(t, s, nil)
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpoint(r.httpAddr.String()), otlptracehttp.WithInsecure(),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 3 * time.Second, MaxElapsedTime: 20 * time.Second}))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, exp.ExportSpans(context.Background(), sdkSpans(7)))
	assertRetriedAfterHintExactlyOnce(t, s, 7, time.Since(start))
	require.NoError(t, exp.Shutdown(context.Background()))
}

// retry is the collector exporters' retry, fast enough that only the hint makes them wait.
var retry = configretry.BackOffConfig{
	Enabled: true, InitialInterval: 10 * time.Millisecond, RandomizationFactor: 0,
	Multiplier: 1.5, MaxInterval: 3 * time.Second, MaxElapsedTime: 20 * time.Second,
}

func TestCollectorOTLPExporterRetriesAfterTheHint(t *testing.T) {
	for _, compression := range []configcompression.Type{configcompression.TypeGzip, configcompression.TypeZstd, "none"} {
		t.Run("compression="+string(compression), func(t *testing.T) {
			t.Parallel()
			s := refuseOnceThenAccept()
			r := startReceiver(t, s, nil)
			f := otlpexporter.NewFactory()
			cfg := f.CreateDefaultConfig().(*otlpexporter.Config)
			cfg.ClientConfig.Endpoint = r.grpcAddr.String()
			cfg.ClientConfig.TLS.Insecure = true
			cfg.ClientConfig.Compression = compression
			cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // synchronous
			cfg.RetryConfig = retry
			runCollectorExporter(t, f, cfg, s)
		})
	}
}

func TestCollectorOTLPHTTPExporterRetriesAfterTheHint(t *testing.T) {
	s := refuseOnceThenAccept()
	r := startReceiver(t, s, nil)
	f := otlphttpexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlphttpexporter.Config)
	cfg.ClientConfig.Endpoint = "http://" + r.httpAddr.String()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig = retry
	runCollectorExporter(t, f, cfg, s)
}

func runCollectorExporter(t *testing.T, f exporter.Factory, cfg component.Config, s *sink) {
	t.Helper()
	ctx := context.Background()
	exp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	start := time.Now()
	require.NoError(t, exp.ConsumeTraces(ctx, testTraces(9)))
	assertRetriedAfterHintExactlyOnce(t, s, 9, time.Since(start))
	require.NoError(t, exp.Shutdown(ctx))
}
