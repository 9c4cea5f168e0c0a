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
	name string
	// blocks returns empty column blocks of the signal's tables; tableNames names them in cfg.
	blocks     func() []chcol.Block
	tableNames func(cfg *Config) []string
	// fill converts data into rows of blocks (as blocks returns them).
	fill func(blocks []chcol.Block, data T)
	rows func(data T) int
	// size is the weight of data against queue and budget limits: its protobuf size, which
	// is computed without allocating. The pdata held in memory is a small multiple of it
	// (see the README's memory formula).
	size func(data T) int
	// unmarshal reads the OTLP protobuf of a request: the write-ahead log records of earlier
	// versions (wal_record.go). protoRows counts their rows without decoding them.
	unmarshal func(b []byte) (T, error)
	protoRows func(b []byte) (int, error)
	// split groups data by the lane key of each resource (attribute name).
	split func(data T, attribute string) []part[T]
	// singleTable: every row goes to one table, so a rejected insert wrote nothing.
	singleTable bool
}

var tracesSignal = signal[ptrace.Traces]{
	name:        "traces",
	singleTable: true,
	blocks:      func() []chcol.Block { return []chcol.Block{chcol.NewTraces()} },
	tableNames:  func(cfg *Config) []string { return []string{cfg.TracesTableName} },
	fill:        func(b []chcol.Block, td ptrace.Traces) { b[0].(*chcol.Traces).Append(td) },
	rows:        func(td ptrace.Traces) int { return td.SpanCount() },
	size:        func(td ptrace.Traces) int { return (&ptrace.ProtoMarshaler{}).TracesSize(td) },
	unmarshal:   (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces,
	protoRows:   func(b []byte) (int, error) { return otlpwire.Count(b, otlpwire.Spans) },
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
	blocks:      func() []chcol.Block { return []chcol.Block{chcol.NewLogs()} },
	tableNames:  func(cfg *Config) []string { return []string{cfg.LogsTableName} },
	fill:        func(b []chcol.Block, ld plog.Logs) { b[0].(*chcol.Logs).Append(ld) },
	rows:        func(ld plog.Logs) int { return ld.LogRecordCount() },
	size:        func(ld plog.Logs) int { return (&plog.ProtoMarshaler{}).LogsSize(ld) },
	unmarshal:   (&plog.ProtoUnmarshaler{}).UnmarshalLogs,
	protoRows:   func(b []byte) (int, error) { return otlpwire.Count(b, otlpwire.LogRecords) },
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
	blocks: func() []chcol.Block {
		m := chcol.NewMetrics()
		return []chcol.Block{m.Gauge, m.Sum, m.Histogram, m.ExponentialHistogram, m.Summary}
	},
	tableNames: func(cfg *Config) []string {
		mt := cfg.MetricsTables
		return []string{mt.Gauge.Name, mt.Sum.Name, mt.Histogram.Name, mt.ExponentialHistogram.Name, mt.Summary.Name}
	},
	fill: func(b []chcol.Block, md pmetric.Metrics) {
		chcol.AppendMetrics(md, b[0].(*chcol.Gauge), b[1].(*chcol.Sum), b[2].(*chcol.Histogram),
			b[3].(*chcol.ExpHistogram), b[4].(*chcol.Summary))
	},
	rows:      func(md pmetric.Metrics) int { return md.DataPointCount() },
	size:      func(md pmetric.Metrics) int { return (&pmetric.ProtoMarshaler{}).MetricsSize(md) },
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

// tables returns a writer for each of the signal's tables in database, with new blocks.
func (s *signal[T]) tables(database string, cfg *Config) []*tableWriter {
	names, blocks := s.tableNames(cfg), s.blocks()
	out := make([]*tableWriter, len(blocks))
	for i, b := range blocks {
		out[i] = newTableWriter(database, names[i], b)
	}
	return out
}

// blocksOf returns the blocks of tables, in order.
func blocksOf(tables []*tableWriter) []chcol.Block {
	out := make([]chcol.Block, len(tables))
	for i, t := range tables {
		out[i] = t.block
	}
	return out
}
