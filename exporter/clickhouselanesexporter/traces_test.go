package clickhouselanesexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// putEveryType puts one attribute of each pdata value type, plus the awkward strings.
func putEveryType(m pcommon.Map, prefix string) {
	m.PutStr(prefix+"str", "hello")
	m.PutStr(prefix+"empty", "")
	m.PutStr(prefix+"non_utf8", "\xff\xfe\x00bad")
	m.PutStr(prefix+"huge", strings.Repeat("x", 1<<20))
	m.PutInt(prefix+"int", -42)
	m.PutDouble(prefix+"double", 3.25e-9)
	m.PutDouble(prefix+"double_big", 1e21)
	m.PutBool(prefix+"bool", true)
	m.PutEmptyBytes(prefix + "bytes").FromRaw([]byte{0xff, 0x00, 0x01})
	s := m.PutEmptySlice(prefix + "slice")
	s.AppendEmpty().SetStr("a")
	s.AppendEmpty().SetInt(1)
	mm := m.PutEmptyMap(prefix + "map")
	mm.PutStr("k", "v<&>")
	mm.PutDouble("d", 1.5)
	m.PutEmpty(prefix + "nil")
}

// asStrings is what the contrib schema stores for m: every value as AsString.
func asStrings(m pcommon.Map) map[string]string {
	out := make(map[string]string, m.Len())
	for k, v := range m.All() {
		out[k] = v.AsString()
	}
	return out
}

func testTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	putEveryType(rs.Resource().Attributes(), "res.")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("scope-a")
	ss.Scope().SetVersion("1.2.3")

	now := pcommon.Timestamp(1_764_000_000_123_456_789)
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID(pcommon.SpanID{0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2})
	sp.SetParentSpanID(pcommon.SpanID{9, 9, 9, 9, 9, 9, 9, 9})
	sp.TraceState().FromRaw("vendor=a,other=b")
	sp.SetFlags(1)
	sp.SetName("GET /cart")
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetStartTimestamp(now)
	sp.SetEndTimestamp(now + 1_500_000)
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Status().SetMessage("boom \xff")
	putEveryType(sp.Attributes(), "span.")
	for i := range 2 {
		ev := sp.Events().AppendEmpty()
		ev.SetName(fmt.Sprintf("event-%d", i))
		ev.SetTimestamp(now + pcommon.Timestamp(i+1))
		ev.Attributes().PutInt("i", int64(i))
		ev.Attributes().PutBool("b", i == 0)
	}
	ln := sp.Links().AppendEmpty()
	ln.SetTraceID(pcommon.TraceID{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1})
	ln.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	ln.TraceState().FromRaw("x=y")
	ln.Attributes().PutDouble("w", 0.5)

	// A bare span: empty ids, no events or links, no attributes, unset status.
	bare := ss.Spans().AppendEmpty()
	bare.SetName("")
	bare.SetStartTimestamp(now + 10)
	bare.SetEndTimestamp(now + 10)
	return td
}

type spanRow struct {
	Timestamp                                  time.Time
	TraceID, SpanID, ParentSpanID, TraceState  string
	SpanName, SpanKind, ServiceName            string
	ResourceAttributes, SpanAttributes         map[string]string
	ScopeName, ScopeVersion                    string
	Duration                                   uint64
	StatusCode, StatusMessage                  string
	EventTimes                                 []time.Time
	EventNames                                 []string
	EventAttrs                                 []map[string]string
	LinkTraceIDs, LinkSpanIDs, LinkTraceStates []string
	LinkAttrs                                  []map[string]string
}

func readSpans(t *testing.T, endpoint, db, table string) []spanRow {
	t.Helper()
	conn := openDB(t, endpoint)
	rows, err := conn.Query(context.Background(), "SELECT Timestamp, TraceId, SpanId, ParentSpanId, TraceState, "+
		"SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, "+
		"StatusCode, StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`, "+
		"`Links.SpanId`, `Links.TraceState`, `Links.Attributes` FROM "+quotedTable(db, table)+" ORDER BY Timestamp")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []spanRow
	for rows.Next() {
		var r spanRow
		if err := rows.Scan(&r.Timestamp, &r.TraceID, &r.SpanID, &r.ParentSpanID, &r.TraceState, &r.SpanName,
			&r.SpanKind, &r.ServiceName, &r.ResourceAttributes, &r.ScopeName, &r.ScopeVersion, &r.SpanAttributes,
			&r.Duration, &r.StatusCode, &r.StatusMessage, &r.EventTimes, &r.EventNames, &r.EventAttrs,
			&r.LinkTraceIDs, &r.LinkSpanIDs, &r.LinkTraceStates, &r.LinkAttrs); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTracesRoundTripEveryField writes spans through the exporter into a real ClickHouse and
// reads every column back, comparing with what the contrib exporter would have stored.
// Every compression is covered: without compression the driver writes columns through a
// different path (WriteColumn) than with it (EncodeColumn).
func TestTracesRoundTripEveryField(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	for _, c := range []Compression{"lz4", "zstd", "none"} {
		t.Run(string(c), func(t *testing.T) { tracesRoundTrip(t, endpoint, c) })
	}
}

func tracesRoundTrip(t *testing.T, endpoint string, compression Compression) {
	cfg := testConfig(t, endpoint)
	cfg.Compression = compression
	exp, err := NewFactory().CreateTraces(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	td := testTraces()
	if err := exp.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatalf("consume: %v", err)
	}
	got := readSpans(t, endpoint, cfg.Database, cfg.TracesTableName)
	if len(got) != 2 {
		t.Fatalf("read %d spans, want 2", len(got))
	}
	rs := td.ResourceSpans().At(0)
	sp := rs.ScopeSpans().At(0).Spans().At(0)
	r := got[0]
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			g, w := fmt.Sprint(got), fmt.Sprint(want)
			if len(g) > 200 {
				g, w = g[:200]+"...", w[:min(200, len(w))]+"..."
			}
			t.Errorf("%s = %q, want %q", name, g, w)
		}
	}
	check("Timestamp", r.Timestamp.UnixNano(), int64(sp.StartTimestamp()))
	check("TraceId", r.TraceID, "0102030405060708090a0b0c0d0e0f10")
	check("SpanId", r.SpanID, "0a0b0c0d0e0f0102")
	check("ParentSpanId", r.ParentSpanID, "0909090909090909")
	check("TraceState", r.TraceState, "vendor=a,other=b")
	check("SpanName", r.SpanName, "GET /cart")
	check("SpanKind", r.SpanKind, "Server")
	check("ServiceName", r.ServiceName, "checkout")
	check("ResourceAttributes", r.ResourceAttributes, asStrings(rs.Resource().Attributes()))
	check("ScopeName", r.ScopeName, "scope-a")
	check("ScopeVersion", r.ScopeVersion, "1.2.3")
	check("SpanAttributes", r.SpanAttributes, asStrings(sp.Attributes()))
	check("Duration", r.Duration, uint64(1_500_000))
	check("StatusCode", r.StatusCode, "Error")
	check("StatusMessage", r.StatusMessage, "boom \xff")
	check("Events.Timestamp", []int64{r.EventTimes[0].UnixNano(), r.EventTimes[1].UnixNano()},
		[]int64{int64(sp.StartTimestamp()) + 1, int64(sp.StartTimestamp()) + 2})
	check("Events.Name", r.EventNames, []string{"event-0", "event-1"})
	check("Events.Attributes", r.EventAttrs, []map[string]string{{"i": "0", "b": "true"}, {"i": "1", "b": "false"}})
	check("Links.TraceId", r.LinkTraceIDs, []string{"100f0e0d0c0b0a090807060504030201"})
	check("Links.SpanId", r.LinkSpanIDs, []string{"0101010101010101"})
	check("Links.TraceState", r.LinkTraceStates, []string{"x=y"})
	check("Links.Attributes", r.LinkAttrs, []map[string]string{{"w": "0.5"}})
	if v := r.SpanAttributes["span.huge"]; len(v) != 1<<20 {
		t.Errorf("huge attribute came back with %d bytes", len(v))
	}
	if v := r.SpanAttributes["span.non_utf8"]; v != "\xff\xfe\x00bad" {
		t.Errorf("non-UTF-8 attribute came back as %q", v)
	}

	b := got[1]
	check("bare TraceId", b.TraceID, "")
	check("bare SpanId", b.SpanID, "")
	check("bare ResourceAttributes", b.ResourceAttributes, asStrings(rs.Resource().Attributes()))
	check("bare SpanKind", b.SpanKind, "Unspecified")
	check("bare StatusCode", b.StatusCode, "Unset")
	check("bare SpanAttributes", len(b.SpanAttributes), 0)
	check("bare Events", len(b.EventNames)+len(b.LinkTraceIDs), 0)
}
