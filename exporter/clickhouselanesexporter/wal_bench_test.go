package clickhouselanesexporter

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
)

// BenchmarkWALRecord compares what a write-ahead log record could hold, per span, split into
// what the caller's goroutine pays (before the append) and what the lane's worker pays when
// it drains the record into the columns it inserts:
//
//   - protobuf: the caller marshals the request; the worker unmarshals it and converts it
//     to columns (what the exporter does).
//   - columns: the caller converts the request to columns and encodes them as a native
//     block; the worker decodes the block. ch-go's DecodeColumn replaces a column's rows
//     (ColStr resets Pos, for one), so the worker would also have to copy every decoded row
//     into its batch's columns, per column type; and chcol's own column types (strCol, …)
//     encode only. "columns/drain" therefore skips until they decode, and would be a lower
//     bound (no copy) when they do.
//
// record-B/span is the record's size: the bytes each append writes and fsyncs.
func BenchmarkWALRecord(b *testing.B) {
	td := typicalTraces()
	marshal, unmarshal := (&ptrace.ProtoMarshaler{}).MarshalTraces, (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces
	pb, err := marshal(td)
	if err != nil {
		b.Fatal(err)
	}
	block := chcol.NewTraces()
	var native proto.Buffer
	block.Append(td)
	encodeBlock(&native, block.Input())
	rows := block.Rows()

	b.Run("protobuf/caller", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if _, err := marshal(td); err != nil {
				b.Fatal(err)
			}
		}
		reportPerSpan(b, cpu)
		b.ReportMetric(float64(len(pb))/benchSpans, "record-B/span")
	})
	b.Run("protobuf/drain", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			got, err := unmarshal(pb)
			if err != nil {
				b.Fatal(err)
			}
			block.Reset()
			block.Append(got)
		}
		reportPerSpan(b, cpu)
	})
	b.Run("columns/caller", func(b *testing.B) {
		var buf proto.Buffer
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			block.Reset()
			block.Append(td)
			buf.Reset()
			encodeBlock(&buf, block.Input())
		}
		reportPerSpan(b, cpu)
		b.ReportMetric(float64(len(native.Buf))/benchSpans, "record-B/span")
	})
	b.Run("columns/drain", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			block.Reset()
			r := proto.NewReader(bytes.NewReader(native.Buf))
			for _, c := range block.Input() {
				col, ok := c.Data.(proto.ColResult)
				if !ok {
					// chcol's own columns (strCol for ids and strings, …) only encode.
					b.Skipf("column %s (%T) has no decoder: replaying option (b) needs decoders for chcol's column types", c.Name, c.Data)
				}
				if s, ok := c.Data.(proto.StateDecoder); ok {
					if err := s.DecodeState(r); err != nil {
						b.Fatal(err)
					}
				}
				if err := col.DecodeColumn(r, rows); err != nil {
					b.Fatalf("decode %s: %v", c.Name, err)
				}
			}
		}
		reportPerSpan(b, cpu)
	})
}

// BenchmarkOnWAL acknowledges 100-span requests with acknowledge on_wal and sync always from
// 32 concurrent callers: "dead" against a destination that never answers (append and fsync
// only: the log grows), "null" draining into an ENGINE = Null table at the same time. It
// reports CPU per span (with "null", until every row is inserted: shutdown drains the log)
// and rows/s acknowledged.
func BenchmarkOnWAL(b *testing.B) {
	for _, dest := range []string{"dead", "null"} {
		b.Run(dest, func(b *testing.B) {
			var cfg *Config
			if dest == "dead" {
				cfg = sickConfig(b)
			} else {
				_, db := nullTable(b)
				cfg = createDefaultConfig().(*Config)
				cfg.Endpoint, cfg.Database = "tcp://"+benchAddr, db
				cfg.TracesTableName, cfg.CreateSchema = "null_traces", false
				cfg.DrainTimeout = 10 * time.Minute // the measured shutdown drains everything
			}
			cfg.Acknowledge = AckOnWAL
			cfg.WAL.Directory = b.TempDir()
			cfg.WAL.MaxBytes, cfg.WAL.MaxLaneBytes = 64<<30, 64<<30
			exp := benchLaneExporter(b, cfg)
			td := benchRequest(100)
			var failed atomic.Pointer[error]
			b.SetParallelism(16) // 32 callers on 2 cores
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := exp.ConsumeTraces(context.Background(), td); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				}
			})
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			acked := b.Elapsed()
			if dest == "null" {
				// Shutdown drains the logs: the CPU then includes inserting every row.
				if err := exp.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			spans := float64(b.N * 100)
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/spans, "cpu-ns/span")
			b.ReportMetric(spans/acked.Seconds(), "acked-rows/s")
		})
	}
}
