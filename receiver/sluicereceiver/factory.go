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
		},
	}
}

func createTraces(_ context.Context, _ receiver.Settings, _ component.Config, _ consumer.Traces) (receiver.Traces, error) {
	return nopReceiver{}, nil
}

func createMetrics(_ context.Context, _ receiver.Settings, _ component.Config, _ consumer.Metrics) (receiver.Metrics, error) {
	return nopReceiver{}, nil
}

func createLogs(_ context.Context, _ receiver.Settings, _ component.Config, _ consumer.Logs) (receiver.Logs, error) {
	return nopReceiver{}, nil
}

// nopReceiver stands in until the data path lands.
type nopReceiver struct{}

func (nopReceiver) Start(context.Context, component.Host) error { return nil }
func (nopReceiver) Shutdown(context.Context) error             { return nil }
