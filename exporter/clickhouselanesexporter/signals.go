package clickhouselanesexporter

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
	"github.com/sluicehq/sluice/internal/otlpwire"
)

// signal describes how one OTLP signal becomes rows: which tables, how data fills them, how
// much it weighs, and how a request splits by a resource attribute.
type signal[T any] struct {
	name   string
	tables func(database string, cfg *Config) []*tableWriter
	fill   func(tables []*tableWriter, data T)
	rows   func(data T) int
	// size is the weight of data against queue and budget limits: its protobuf size, which
	// is computed without allocating. The pdata held in memory is a small multiple of it
	// (see the README's memory formula).
	size func(data T) int
	// marshal and unmarshal are the OTLP protobuf form of data: a write-ahead log record.
	marshal   func(data T) ([]byte, error)
	unmarshal func(b []byte) (T, error)
	// protoRows counts the rows of a marshalled request without decoding it: the drain bounds
	// a batch by rows before it decodes any record.
	protoRows func(b []byte) (int, error)
	// split groups data by the lane key of each resource (attribute name).
	split func(data T, attribute string) []part[T]
	// singleTable: every row goes to one table, so a rejected insert wrote nothing.
	singleTable bool
}

var tracesSignal = signal[ptrace.Traces]{
	name:        "traces",
	singleTable: true,
	tables: func(db string, cfg *Config) []*tableWriter {
		return []*tableWriter{newTableWriter(db, cfg.TracesTableName, chcol.NewTraces())}
	},
	fill:      func(t []*tableWriter, td ptrace.Traces) { t[0].block.(*chcol.Traces).Append(td) },
	rows:      func(td ptrace.Traces) int { return td.SpanCount() },
	size:      func(td ptrace.Traces) int { return (&ptrace.ProtoMarshaler{}).TracesSize(td) },
	marshal:   (&ptrace.ProtoMarshaler{}).MarshalTraces,
	unmarshal: (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces,
	protoRows: func(b []byte) (int, error) { return otlpwire.Count(b, otlpwire.Spans) },
	split: func(td ptrace.Traces, attr string) []part[ptrace.Traces] {
		rs := td.ResourceSpans()
		return splitByResource(td, rs.Len(),
			func(i int) string { return keyFromResource(rs.At(i).Resource(), attr) },
			func(idx []int) ptrace.Traces {
				out := ptrace.NewTraces()
				for _, i := range idx {
					rs.At(i).CopyTo(out.ResourceSpans().AppendEmpty())
				}
				return out
			})
	},
}

var logsSignal = signal[plog.Logs]{
	name:        "logs",
	singleTable: true,
	tables: func(db string, cfg *Config) []*tableWriter {
		return []*tableWriter{newTableWriter(db, cfg.LogsTableName, chcol.NewLogs())}
	},
	fill:      func(t []*tableWriter, ld plog.Logs) { t[0].block.(*chcol.Logs).Append(ld) },
	rows:      func(ld plog.Logs) int { return ld.LogRecordCount() },
	size:      func(ld plog.Logs) int { return (&plog.ProtoMarshaler{}).LogsSize(ld) },
	marshal:   (&plog.ProtoMarshaler{}).MarshalLogs,
	unmarshal: (&plog.ProtoUnmarshaler{}).UnmarshalLogs,
	protoRows: func(b []byte) (int, error) { return otlpwire.Count(b, otlpwire.LogRecords) },
	split: func(ld plog.Logs, attr string) []part[plog.Logs] {
		rl := ld.ResourceLogs()
		return splitByResource(ld, rl.Len(),
			func(i int) string { return keyFromResource(rl.At(i).Resource(), attr) },
			func(idx []int) plog.Logs {
				out := plog.NewLogs()
				for _, i := range idx {
					rl.At(i).CopyTo(out.ResourceLogs().AppendEmpty())
				}
				return out
			})
	},
}

var metricsSignal = signal[pmetric.Metrics]{
	name: "metrics",
	tables: func(db string, cfg *Config) []*tableWriter {
		m := chcol.NewMetrics()
		mt := cfg.MetricsTables
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
	rows:      func(md pmetric.Metrics) int { return md.DataPointCount() },
	size:      func(md pmetric.Metrics) int { return (&pmetric.ProtoMarshaler{}).MetricsSize(md) },
	marshal:   (&pmetric.ProtoMarshaler{}).MarshalMetrics,
	unmarshal: (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics,
	protoRows: func(b []byte) (int, error) { return otlpwire.Count(b, otlpwire.DataPoints) },
	split: func(md pmetric.Metrics, attr string) []part[pmetric.Metrics] {
		rm := md.ResourceMetrics()
		return splitByResource(md, rm.Len(),
			func(i int) string { return keyFromResource(rm.At(i).Resource(), attr) },
			func(idx []int) pmetric.Metrics {
				out := pmetric.NewMetrics()
				for _, i := range idx {
					rm.At(i).CopyTo(out.ResourceMetrics().AppendEmpty())
				}
				return out
			})
	},
}
