package sluicereceiver

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// TestRefusalIsLoggedWithItsOwnSignal: the receiver is shared by its signals and created
// with the first one's settings, but a refused logs request is logged by the logs logger.
func TestRefusalIsLoggedWithItsOwnSignal(t *testing.T) {
	core, logged := observer.New(zap.WarnLevel)
	settings := func(sig string) receiver.Settings {
		set := receivertest.NewNopSettings(metadata.Type)
		set.Logger = zap.New(core).With(zap.String(signalKey, sig))
		return set
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	s := &sink{script: []error{backpressure.QueueFull("full", time.Second)}}
	f := NewFactory()
	ctx := context.Background()
	tr, err := f.CreateTraces(ctx, settings("traces"), cfg, s.traces())
	require.NoError(t, err)
	_, err = f.CreateMetrics(ctx, settings("metrics"), cfg, s.metrics())
	require.NoError(t, err)
	_, err = f.CreateLogs(ctx, settings("logs"), cfg, s.logs())
	require.NoError(t, err)
	require.NoError(t, tr.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, tr.Shutdown(context.Background())) })
	r := tr.(*sharedEntry[*otlpReceiver]).value

	body, _ := plogotlp.NewExportRequestFromLogs(testLogs(1)).MarshalProto()
	require.Equal(t, http.StatusTooManyRequests, post(t, "http://"+r.httpAddr.String()+"/v1/logs", "application/x-protobuf", body, nil).code)
	entries := logged.FilterMessage("request refused").All()
	require.Len(t, entries, 1)
	assert.Equal(t, "logs", entries[0].ContextMap()[signalKey])
}

// injectingMeterProvider stands in for the collector's meter provider under the
// telemetry.newPipelineTelemetry feature gate: it adds the component's attributes to every
// meter's instrumentation scope and drops some of them on request.
type injectingMeterProvider struct {
	metric.MeterProvider
	attrs []attribute.KeyValue
}

func (p injectingMeterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return p.MeterProvider.Meter(name, append(opts, metric.WithInstrumentationAttributes(p.attrs...))...)
}

func (p injectingMeterProvider) DropInjectedAttributes(drop ...string) metric.MeterProvider {
	return injectingMeterProvider{p.MeterProvider, slices.DeleteFunc(slices.Clone(p.attrs), func(kv attribute.KeyValue) bool {
		return slices.Contains(drop, string(kv.Key))
	})}
}

// TestTwoReceiversKeepSeparateSeriesByComponentID: with the collector injecting component
// attributes, two sluice receivers' metrics are told apart by otelcol.component.id, and
// carry no otelcol.signal (the first signal's would be wrong for the others).
func TestTwoReceiversKeepSeparateSeriesByComponentID(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, provider.Shutdown(context.Background())) })
	ids := []component.ID{component.NewID(metadata.Type), component.NewIDWithName(metadata.Type, "tenant")}
	for _, id := range ids {
		set := receivertest.NewNopSettings(metadata.Type)
		set.ID = id
		set.MeterProvider = injectingMeterProvider{provider, []attribute.KeyValue{
			attribute.String("otelcol.component.kind", "receiver"),
			attribute.String(signalKey, "traces"),
			attribute.String("otelcol.component.id", id.String()),
		}}
		cfg := createDefaultConfig().(*Config)
		cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
		tr, err := NewFactory().CreateTraces(context.Background(), set, cfg, (&sink{}).traces())
		require.NoError(t, err)
		require.NoError(t, tr.Start(context.Background(), componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, tr.Shutdown(context.Background())) })
		body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
		addr := tr.(*sharedEntry[*otlpReceiver]).value.httpAddr.String()
		require.Equal(t, http.StatusOK, post(t, "http://"+addr+"/v1/traces", "application/x-protobuf", body, nil).code)
	}

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var seen []string
	for _, sm := range rm.ScopeMetrics {
		if !slices.ContainsFunc(sm.Metrics, func(m metricdata.Metrics) bool { return m.Name == "otelcol_sluice_receiver_requests" }) {
			continue
		}
		id, ok := sm.Scope.Attributes.Value("otelcol.component.id")
		require.True(t, ok, "scope %v", sm.Scope)
		seen = append(seen, id.AsString())
		_, hasSignal := sm.Scope.Attributes.Value(signalKey)
		assert.False(t, hasSignal, "the receiver's metrics carry no otelcol.signal of their own")
	}
	assert.ElementsMatch(t, []string{"sluice", "sluice/tenant"}, seen)
}
