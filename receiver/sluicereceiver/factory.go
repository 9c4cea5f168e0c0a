package sluicereceiver // import "github.com/sluicehq/sluice/receiver/sluicereceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// receivers holds one receiver per *Config: the collector passes the same pointer to every
// signal's create function.
var receivers shared[*Config, *otlpReceiver]

// NewFactory creates the factory of the sluice receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithTraces(createTraces, metadata.TracesStability),
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
		receiver.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	grpc := configgrpc.NewDefaultServerConfig()
	grpc.NetAddr.Endpoint = "localhost:4317"
	httpCfg := HTTPConfig{
		ServerConfig:   confighttp.NewDefaultServerConfig(),
		TracesURLPath:  "/v1/traces",
		MetricsURLPath: "/v1/metrics",
		LogsURLPath:    "/v1/logs",
		// Exporters send a body as fast as the link allows and give up after their own
		// timeout (10 s by default for otlphttp); below confighttp's 30 s write_timeout, so
		// the 408 can still be written.
		BodyReadTimeout: 20 * time.Second,
	}
	httpCfg.ServerConfig.NetAddr.Endpoint = "localhost:4318"
	return &Config{
		Protocols: Protocols{
			GRPC: configoptional.Default(grpc),
			HTTP: configoptional.Default(httpCfg),
		},
		Admission: AdmissionConfig{
			MaxInflightRequests: 50,
			MaxInflightBytes:    200 << 20,
			MaxWaitingRequests:  0,
			MaxWait:             0,
			RetryAfter:          time.Second,
			Tenant:              TenantConfig{MaxShare: 1, MaxTenants: 100},
		},
		ShutdownTimeout: 5 * time.Second,
	}
}

func create(set receiver.Settings, cfg component.Config) (*sharedEntry[*otlpReceiver], error) {
	c := cfg.(*Config)
	return receivers.getOrAdd(c, func() (*otlpReceiver, error) { return newReceiver(c, set) })
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	e, err := create(set, cfg)
	if err != nil {
		return nil, err
	}
	e.value.traces = newTracesSignal(e.value, next)
	e.value.refusals.useFor("traces", set.Logger)
	return e, nil
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	e, err := create(set, cfg)
	if err != nil {
		return nil, err
	}
	e.value.metrics = newMetricsSignal(e.value, next)
	e.value.refusals.useFor("metrics", set.Logger)
	return e, nil
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	e, err := create(set, cfg)
	if err != nil {
		return nil, err
	}
	e.value.logs = newLogsSignal(e.value, next)
	e.value.refusals.useFor("logs", set.Logger)
	return e, nil
}
