package clickhouselanesexporter

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
)

// signal describes how one OTLP signal becomes rows: which tables, and how data fills them.
type signal[T any] struct {
	name   string
	tables func(cfg *Config) []*tableWriter
	fill   func(tables []*tableWriter, data T)
	rows   func(data T) int
}

var tracesSignal = signal[ptrace.Traces]{
	name: "traces",
	tables: func(cfg *Config) []*tableWriter {
		return []*tableWriter{newTableWriter(cfg.Database, cfg.TracesTableName, chcol.NewTraces())}
	},
	fill: func(t []*tableWriter, td ptrace.Traces) { t[0].block.(*chcol.Traces).Append(td) },
	rows: func(td ptrace.Traces) int { return td.SpanCount() },
}

var logsSignal = signal[plog.Logs]{
	name: "logs",
	tables: func(cfg *Config) []*tableWriter {
		return []*tableWriter{newTableWriter(cfg.Database, cfg.LogsTableName, chcol.NewLogs())}
	},
	fill: func(t []*tableWriter, ld plog.Logs) { t[0].block.(*chcol.Logs).Append(ld) },
	rows: func(ld plog.Logs) int { return ld.LogRecordCount() },
}

var metricsSignal = signal[pmetric.Metrics]{
	name: "metrics",
	tables: func(cfg *Config) []*tableWriter {
		m := chcol.NewMetrics()
		db, mt := cfg.Database, cfg.MetricsTables
		return []*tableWriter{
			newTableWriter(db, mt.Gauge.Name, m.Gauge),
			newTableWriter(db, mt.Sum.Name, m.Sum),
			newTableWriter(db, mt.Histogram.Name, m.Histogram),
			newTableWriter(db, mt.ExponentialHistogram.Name, m.ExponentialHistogram),
			newTableWriter(db, mt.Summary.Name, m.Summary),
		}
	},
	fill: func(t []*tableWriter, md pmetric.Metrics) {
		chcol.AppendMetrics(md, t[0].block.(*chcol.Gauge), t[1].block.(*chcol.Sum), t[2].block.(*chcol.Histogram),
			t[3].block.(*chcol.ExpHistogram), t[4].block.(*chcol.Summary))
	},
	rows: func(md pmetric.Metrics) int { return md.DataPointCount() },
}
