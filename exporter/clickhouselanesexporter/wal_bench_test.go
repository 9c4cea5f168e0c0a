package clickhouselanesexporter

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkWALRecord compares what a write-ahead log record holds, per span, split into what
// the caller's goroutine pays (before the append) and what the lane's worker pays when it
// drains the record into the columns it inserts:
//
//   - protobuf (the format of earlier versions, still read): the caller marshals the
//     request; the worker unmarshals it and converts it to columns.
//   - columns (what the exporter writes): the caller converts the request to columns and
//     appends them as a record; the worker appends the record's bytes to its block.
//
// record-B/span is the record's size: the bytes each append writes and fsyncs.
func BenchmarkWALRecord(b *testing.B) {
	td := typicalTraces()
	codec := newRecordCodec(&tracesSignal)
	formats := []struct {
		name   string
		encode func(dst []byte) []byte
	}{
		{"protobuf", func(dst []byte) []byte {
			out, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
			if err != nil {
				b.Fatal(err)
			}
			return append(append(dst, recordProtobuf), out...)
		}},
		{"columns", func(dst []byte) []byte { return codec.encode(dst, td) }},
	}
	blocks := tracesSignal.blocks()
	for _, f := range formats {
		rec := f.encode(nil)
		b.Run(f.name+"/caller", func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			buf := rec
			for b.Loop() {
				buf = f.encode(buf[:0])
			}
			reportPerSpan(b, cpu)
			b.ReportMetric(float64(len(rec))/benchSpans, "record-B/span")
		})
		b.Run(f.name+"/drain", func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				blocks[0].Reset()
				if _, err := codec.appendTo(blocks, rec); err != nil {
					b.Fatal(err)
				}
			}
			reportPerSpan(b, cpu)
		})
	}
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
