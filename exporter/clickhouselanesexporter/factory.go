package clickhouselanesexporter // import "github.com/sluicehq/sluice/exporter/clickhouselanesexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadata"
)

// NewFactory creates the factory of the clickhouselanes exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	t := chschema.DefaultTables
	return &Config{
		Endpoint:            "tcp://127.0.0.1:9000",
		Database:            "otel",
		TLS:                 configtls.ClientConfig{Insecure: true},
		DialTimeout:         5 * time.Second,
		ReadTimeout:         10 * time.Second,
		PoolSize:            4,
		Compression:         "lz4",
		ClientName:          "sluice",
		InsertTimeout:       3 * time.Second,
		Deduplicate:         true,
		CreateSchema:        true,
		TableEngine:         TableEngine{Name: "MergeTree"},
		DeduplicationWindow: 1000,
		Acknowledge:         AckOnInsert,
		WAL: WALConfig{
			MaxBytes: 8 << 30, MaxLaneBytes: 2 << 30, SegmentBytes: 64 << 20, Sync: WALSyncAlways,
			ResendWindow: 2 * time.Minute,
		},
		Lanes: LanesConfig{
			Key: LaneBySignal, MaxLanes: 100, IdleTimeout: 5 * time.Minute,
			MaxQueueRows: 200_000, MaxQueueBytes: 64 << 20,
			FlushRows: 20_000, FlushInterval: time.Second, FlushQuiet: 20 * time.Millisecond,
			MemoryBudget: 256 << 20,
		},
		Retry:           RetryConfig{MaxAttempts: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second},
		Breaker:         BreakerConfig{FailureThreshold: 2, CoolDown: 5 * time.Second, Jitter: 0.2},
		DrainTimeout:    10 * time.Second,
		LogsTableName:   t.Logs,
		TracesTableName: t.Traces,
		MetricsTables: MetricsTablesConfig{
			Gauge: MetricTable{t.Gauge}, Sum: MetricTable{t.Sum}, Summary: MetricTable{t.Summary},
			Histogram: MetricTable{t.Histogram}, ExponentialHistogram: MetricTable{t.ExponentialHistogram},
		},
	}
}

// helperOptions wires start and shutdown; exporterhelper's own timeout, queue and retry are
// off: each insert attempt has insert_timeout, and the lanes are the queue, the retry and
// the backpressure.
func helperOptions[T any](e *chExporter[T]) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{}),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	}
}

// helperSettings gives exporterhelper a logger that keeps at most one line per second per
// message. It logs every failed call ("Exporting failed. Rejecting data.") at error level
// with a stack trace; during a flood of refusals — the moment the lanes exist for — that
// would cost more than the refusal itself and bury the exporter's own rate-limited line.
func helperSettings(set exporter.Settings) exporter.Settings {
	set.Logger = set.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 1, 0)
	}))
	return set
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newExporter(set, cfg.(*Config), tracesSignal)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewTraces(ctx, helperSettings(set), cfg, e.push, helperOptions(e)...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	e, err := newExporter(set, cfg.(*Config), metricsSignal)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, helperSettings(set), cfg, e.push, helperOptions(e)...)
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	e, err := newExporter(set, cfg.(*Config), logsSignal)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, helperSettings(set), cfg, e.push, helperOptions(e)...)
}
