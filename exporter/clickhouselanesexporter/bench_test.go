package clickhouselanesexporter

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/internal/chlocal"
)

const benchSpans = 1000

// typicalTraces is benchSpans spans of one service, each with 10 attributes and one event.
func typicalTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.version", "1.4.2")
	ra.PutStr("host.name", "node-17")
	ra.PutStr("k8s.pod.name", "checkout-7d9f8-abcde")
	ra.PutStr("deployment.environment.name", "prod")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("io.opentelemetry.http")
	now := pcommon.NewTimestampFromTime(time.Unix(1_764_000_000, 0))
	for i := range benchSpans {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, byte(i >> 8)})
		sp.SetSpanID(pcommon.SpanID{byte(i), 2, 3, 4, 5, 6, 7, byte(i >> 8)})
		sp.SetParentSpanID(pcommon.SpanID{9, 2, 3, 4, 5, 6, 7, 8})
		sp.SetName("GET /api/cart")
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetStartTimestamp(now + pcommon.Timestamp(i))
		sp.SetEndTimestamp(now + pcommon.Timestamp(i) + 1_250_000)
		a := sp.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.path", "/api/cart")
		a.PutStr("url.scheme", "https")
		a.PutInt("http.response.status_code", 200)
		a.PutStr("server.address", "checkout.internal")
		a.PutInt("server.port", 8443)
		a.PutStr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")
		a.PutStr("network.protocol.version", "1.1")
		a.PutDouble("sampling.ratio", 0.25)
		a.PutBool("cache.hit", i%2 == 0)
		ev := sp.Events().AppendEmpty()
		ev.SetName("db.query")
		ev.SetTimestamp(now + pcommon.Timestamp(i) + 500)
		ev.Attributes().PutStr("db.statement", "SELECT * FROM carts WHERE id = ?")
	}
	return td
}

// reportPerSpan reports wall time and this process's CPU time per span. CPU time is the
// number to read on a shared machine: other processes' load inflates wall time, not it.
func reportPerSpan(b *testing.B, cpuStart time.Duration) {
	spans := float64(b.N * benchSpans)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
	b.ReportMetric(float64((cpuTime()-cpuStart).Nanoseconds())/spans, "cpu-ns/span")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTracesConvertEncode measures pdata → columns → native block bytes, no network:
// the columnar path against a row-wise driver batch built the way the contrib exporter does.
func BenchmarkTracesConvertEncode(b *testing.B) {
	td := typicalTraces()
	b.Run("columnar", func(b *testing.B) {
		block := chcol.NewTraces()
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
	})
	b.Run("rowwise_append", func(b *testing.B) {
		conn, db := nullTable(b)
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			batch, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+quotedTable(db, "null_traces"))
			if err != nil {
				b.Fatal(err)
			}
			appendRowWise(b, batch, td)
			_ = batch.Abort()
		}
		reportPerSpan(b, cpu)
	})
}

// BenchmarkTracesInsertNull inserts into an ENGINE = Null table, so the numbers are the
// client's cost (conversion, encoding, LZ4, the round trip) with no storage behind it.
func BenchmarkTracesInsertNull(b *testing.B) {
	td := typicalTraces()
	conn, db := nullTable(b)
	for _, dedup := range []bool{false, true} {
		b.Run(fmt.Sprintf("columnar/dedup=%v", dedup), func(b *testing.B) {
			ins := chinsert.New(chinsert.Options{Addrs: []string{benchAddr}, Database: db,
				Compression: Compression("lz4").method(), DialTimeout: 5 * time.Second,
				ReadTimeout: 30 * time.Second, Deduplicate: dedup})
			defer ins.Close()
			block := chcol.NewTraces()
			query := chcol.InsertQuery(quotedTable(db, "null_traces"), block.Input())
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				block.Reset()
				block.Append(td)
				if err := ins.Insert(context.Background(), query, block.Input()); err != nil {
					b.Fatal(err)
				}
			}
			reportPerSpan(b, cpu)
		})
	}
	b.Run("rowwise_append", func(b *testing.B) {
		ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"async_insert": 0}))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+quotedTable(db, "null_traces"))
			if err != nil {
				b.Fatal(err)
			}
			appendRowWise(b, batch, td)
			if err := batch.Send(); err != nil {
				b.Fatal(err)
			}
		}
		reportPerSpan(b, cpu)
	})
}

// benchAddr is the host:port of the server nullTable set up.
var benchAddr string

// nullTable starts (or reuses) a server, creates the traces schema and a Null-engine copy of
// the traces table, and returns an LZ4 clickhouse-go connection to it.
func nullTable(b *testing.B) (driver.Conn, string) {
	b.Helper()
	endpoint := chlocal.ForTest(b)
	benchAddr = strings.TrimPrefix(endpoint, "tcp://")
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	cfg.Database = fmt.Sprintf("bench_%d", time.Now().UnixNano())
	opts, err := cfg.insertOptions(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	opts.Database = ""
	ddl := chinsert.New(opts)
	defer ddl.Close()
	if err := createSchema(context.Background(), ddl, cfg, "traces"); err != nil {
		b.Fatal(err)
	}
	if err := ddl.Exec(context.Background(), "CREATE TABLE "+quotedTable(cfg.Database, "null_traces")+
		" AS "+quotedTable(cfg.Database, cfg.TracesTableName)+" ENGINE = Null"); err != nil {
		b.Fatal(err)
	}
	conn, err := chlocal.Open(context.Background(), endpoint+"?compress=lz4")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn, cfg.Database
}

// appendRowWise fills batch one span at a time with Append(...any), converting ids to hex
// strings and attributes to maps per row — the shape of the contrib exporter's data path.
func appendRowWise(b *testing.B, batch driver.Batch, td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		res := attrMap(rs.Resource().Attributes())
		service := res["service.name"]
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				var evTimes []time.Time
				var evNames []string
				var evAttrs []map[string]string
				for _, ev := range sp.Events().All() {
					evTimes = append(evTimes, ev.Timestamp().AsTime())
					evNames = append(evNames, ev.Name())
					evAttrs = append(evAttrs, attrMap(ev.Attributes()))
				}
				var lTrace, lSpan, lState []string
				var lAttrs []map[string]string
				for _, l := range sp.Links().All() {
					lTrace = append(lTrace, hexOrEmpty(l.TraceID()))
					lSpan = append(lSpan, hexOrEmpty(l.SpanID()))
					lState = append(lState, l.TraceState().AsRaw())
					lAttrs = append(lAttrs, attrMap(l.Attributes()))
				}
				err := batch.Append(sp.StartTimestamp().AsTime(), hexOrEmpty(sp.TraceID()), hexOrEmpty(sp.SpanID()),
					hexOrEmpty(sp.ParentSpanID()), sp.TraceState().AsRaw(), sp.Name(), sp.Kind().String(), service,
					res, ss.Scope().Name(), ss.Scope().Version(), attrMap(sp.Attributes()),
					uint64(sp.EndTimestamp()-sp.StartTimestamp()), sp.Status().Code().String(), sp.Status().Message(),
					evTimes, evNames, evAttrs, lTrace, lSpan, lState, lAttrs)
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func attrMap(m pcommon.Map) map[string]string {
	out := make(map[string]string, m.Len())
	for k, v := range m.All() {
		out[k] = v.AsString()
	}
	return out
}

func hexOrEmpty[T interface{ IsEmpty() bool }](id T) string {
	if id.IsEmpty() {
		return ""
	}
	switch v := any(id).(type) {
	case pcommon.TraceID:
		return hex.EncodeToString(v[:])
	case pcommon.SpanID:
		return hex.EncodeToString(v[:])
	}
	return ""
}

// encodeBlock encodes a block's columns as the native protocol carries them (each column's
// state prefix, then its data).
func encodeBlock(buf *proto.Buffer, in proto.Input) {
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
