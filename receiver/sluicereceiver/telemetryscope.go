package sluicereceiver

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// signalKey is the attribute the collector injects into each signal's telemetry settings.
const signalKey = "otelcol.signal"

// The collector's providers and logger core that inject component attributes
// (otelcol.component.id, .kind, otelcol.signal) can drop some of them on request; these are
// the methods they offer (collector service/internal/componentattribute).
type (
	attrDroppingCore interface {
		DropInjectedAttributes(droppedAttrs ...string) zapcore.Core
	}
	attrDroppingMeterProvider interface {
		DropInjectedAttributes(droppedAttrs ...string) metric.MeterProvider
	}
	attrDroppingTracerProvider interface {
		DropInjectedAttributes(droppedAttrs ...string) trace.TracerProvider
	}
)

// withoutSignal removes the injected otelcol.signal from settings shared by all signals:
// the receiver is created with the first signal's settings, so that attribute would label
// every signal's logs and, with the telemetry.newPipelineTelemetry feature gate, every
// metric with the wrong signal. The component id stays, so two sluice receivers keep
// separate series. Each signal's own logs use that signal's logger (refusalLog.useFor).
func withoutSignal(ts component.TelemetrySettings) component.TelemetrySettings {
	ts.Logger = ts.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		if d, ok := c.(attrDroppingCore); ok {
			return d.DropInjectedAttributes(signalKey)
		}
		return c
	}))
	if d, ok := ts.MeterProvider.(attrDroppingMeterProvider); ok {
		ts.MeterProvider = d.DropInjectedAttributes(signalKey)
	}
	if d, ok := ts.TracerProvider.(attrDroppingTracerProvider); ok {
		ts.TracerProvider = d.DropInjectedAttributes(signalKey)
	}
	return ts
}
