package clickhouselanesexporter

import (
	"bytes"
	"testing"

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
	encodeWithState(&native, block.Input())
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
			encodeWithState(&buf, block.Input())
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

func encodeWithState(buf *proto.Buffer, in proto.Input) {
	for _, c := range in {
		if p, ok := c.Data.(proto.Preparable); ok {
			_ = p.Prepare()
		}
		if s, ok := c.Data.(proto.StateEncoder); ok {
			s.EncodeState(buf)
		}
		c.Data.EncodeColumn(buf)
	}
}

