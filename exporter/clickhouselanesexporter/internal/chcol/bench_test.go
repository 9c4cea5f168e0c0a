package chcol

import (
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const benchRows = 1000

func encode(buf *proto.Buffer, in proto.Input) {
	buf.Reset()
	for _, c := range in {
		c.Data.EncodeColumn(buf)
	}
}

func perRow(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkLogsConvertEncode: a typical record (8 attributes, a 60-byte body), per row.
func BenchmarkLogsConvertEncode(b *testing.B) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "api")
	rl.Resource().Attributes().PutStr("host.name", "node-1")
	sl := rl.ScopeLogs().AppendEmpty()
	for i := range benchRows {
		r := sl.LogRecords().AppendEmpty()
		r.SetTimestamp(pcommon.Timestamp(1_764_000_000_000_000_000 + i))
		r.SetTraceID(pcommon.TraceID{1, byte(i)})
		r.SetSpanID(pcommon.SpanID{2, byte(i)})
		r.SetSeverityText("INFO")
		r.SetSeverityNumber(plog.SeverityNumberInfo)
		r.Body().SetStr("request completed in 12ms with status 200 for user 4711 ok")
		a := r.Attributes()
		a.PutStr("http.route", "/api/v1/items")
		a.PutInt("http.status_code", 200)
		a.PutStr("user.id", "4711")
		a.PutDouble("duration_ms", 12.5)
		a.PutBool("cached", false)
		a.PutStr("code.function", "handle")
		a.PutStr("code.filepath", "server/handler.go")
		a.PutInt("code.lineno", 128)
	}
	block := NewLogs()
	var buf proto.Buffer
	b.ReportAllocs()
	for b.Loop() {
		block.Reset()
		block.Append(ld)
		encode(&buf, block.Input())
	}
	perRow(b)
}

// BenchmarkGaugeConvertEncode: gauge points with 5 attributes and no exemplars, per row.
func BenchmarkGaugeConvertEncode(b *testing.B) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.active_requests")
	dps := m.SetEmptyGauge().DataPoints()
	for i := range benchRows {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.Timestamp(1_764_000_000_000_000_000 + i))
		dp.SetIntValue(int64(i))
		a := dp.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.scheme", "https")
		a.PutStr("server.address", "api.internal")
		a.PutInt("server.port", 8443)
		a.PutStr("network.protocol.version", "2")
	}
	blocks := NewMetrics()
	var buf proto.Buffer
	b.ReportAllocs()
	for b.Loop() {
		blocks.Gauge.Reset()
		AppendMetrics(md, blocks.Gauge, blocks.Sum, blocks.Histogram, blocks.ExponentialHistogram, blocks.Summary)
		encode(&buf, blocks.Gauge.Input())
	}
	perRow(b)
}

// BenchmarkTracesRecord: a 100-span request (10 attributes, an event and a link per span)
// written as a record from pdata (convert + AppendRecord), and appended from the record to a
// block as a write-ahead log replay does, per row.
func BenchmarkTracesRecord(b *testing.B) {
	td := spansForAllocs()
	block := NewTraces()
	blocks := []Block{block}
	layout := Layout(blocks)
	var rec []byte
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			block.Reset()
			block.Append(td)
			rec = AppendRecord(rec[:0], layout, blocks)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block.Rows()), "ns/row")
		b.ReportMetric(float64(len(rec))/float64(block.Rows()), "B/row")
	})
	b.Run("replay", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			block.Reset()
			if _, err := AppendFromRecord(blocks, layout, rec); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block.Rows()), "ns/row")
	})
}
