package sluicereceiver

import (
	"github.com/sluicehq/sluice/internal/otlpwire"

	"context"
	"errors"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
)

type (
	tracesSignal  = signal[ptraceotlp.ExportRequest, ptraceotlp.ExportResponse]
	metricsSignal = signal[pmetricotlp.ExportRequest, pmetricotlp.ExportResponse]
	logsSignal    = signal[plogotlp.ExportRequest, plogotlp.ExportResponse]
)

func newTracesSignal(r *otlpReceiver, next consumer.Traces) *tracesSignal {
	return &tracesSignal{
		r: r, name: "traces",
		newRequest:  ptraceotlp.NewExportRequest,
		newResponse: ptraceotlp.NewExportResponse,
		items:       func(req ptraceotlp.ExportRequest) int { return req.Traces().SpanCount() },
		itemsPath:   otlpwire.Spans,
		consume: func(ctx context.Context, req ptraceotlp.ExportRequest) error {
			return next.ConsumeTraces(ctx, req.Traces())
		},
		setPartial: func(resp ptraceotlp.ExportResponse, n int64, msg string) {
			resp.PartialSuccess().SetRejectedSpans(n)
			resp.PartialSuccess().SetErrorMessage(msg)
		},
		rejected: func(err error) int64 {
			var e consumererror.Traces
			if !errors.As(err, &e) {
				return 0
			}
			return int64(e.Data().SpanCount())
		},
		startOp: (*receiverhelper.ObsReport).StartTracesOp,
		endOp:   (*receiverhelper.ObsReport).EndTracesOp,
	}
}

func newMetricsSignal(r *otlpReceiver, next consumer.Metrics) *metricsSignal {
	return &metricsSignal{
		r: r, name: "metrics",
		newRequest:  pmetricotlp.NewExportRequest,
		newResponse: pmetricotlp.NewExportResponse,
		items:       func(req pmetricotlp.ExportRequest) int { return req.Metrics().DataPointCount() },
		itemsPath:   otlpwire.DataPoints,
		consume: func(ctx context.Context, req pmetricotlp.ExportRequest) error {
			return next.ConsumeMetrics(ctx, req.Metrics())
		},
		setPartial: func(resp pmetricotlp.ExportResponse, n int64, msg string) {
			resp.PartialSuccess().SetRejectedDataPoints(n)
			resp.PartialSuccess().SetErrorMessage(msg)
		},
		rejected: func(err error) int64 {
			var e consumererror.Metrics
			if !errors.As(err, &e) {
				return 0
			}
			return int64(e.Data().DataPointCount())
		},
		startOp: (*receiverhelper.ObsReport).StartMetricsOp,
		endOp:   (*receiverhelper.ObsReport).EndMetricsOp,
	}
}

func newLogsSignal(r *otlpReceiver, next consumer.Logs) *logsSignal {
	return &logsSignal{
		r: r, name: "logs",
		newRequest:  plogotlp.NewExportRequest,
		newResponse: plogotlp.NewExportResponse,
		items:       func(req plogotlp.ExportRequest) int { return req.Logs().LogRecordCount() },
		itemsPath:   otlpwire.LogRecords,
		consume:     func(ctx context.Context, req plogotlp.ExportRequest) error { return next.ConsumeLogs(ctx, req.Logs()) },
		setPartial: func(resp plogotlp.ExportResponse, n int64, msg string) {
			resp.PartialSuccess().SetRejectedLogRecords(n)
			resp.PartialSuccess().SetErrorMessage(msg)
		},
		rejected: func(err error) int64 {
			var e consumererror.Logs
			if !errors.As(err, &e) {
				return 0
			}
			return int64(e.Data().LogRecordCount())
		},
		startOp: (*receiverhelper.ObsReport).StartLogsOp,
		endOp:   (*receiverhelper.ObsReport).EndLogsOp,
	}
}
