package clickhouselanesexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicehq/sluice/internal/chlocal"
)

func testLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.30.0")
	rl.Resource().Attributes().PutStr("service.name", "api")
	rl.Resource().Attributes().PutStr("k8s.pod.name", "api-0")
	putEveryType(rl.Resource().Attributes(), "res.")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.SetSchemaUrl("https://scope.example/1")
	sl.Scope().SetName("logger")
	sl.Scope().SetVersion("v2")
	sl.Scope().Attributes().PutInt("scope.n", 7)

	r := sl.LogRecords().AppendEmpty()
	r.SetTimestamp(pcommon.Timestamp(1_764_000_000_000_000_001))
	r.SetObservedTimestamp(pcommon.Timestamp(1_764_000_000_999_000_000))
	r.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	r.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	r.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
	r.SetSeverityText("WARN")
	r.SetSeverityNumber(plog.SeverityNumberWarn)
	r.Body().SetStr("disk \xff almost full")
	r.SetEventName("disk.warning")
	putEveryType(r.Attributes(), "log.")

	// No timestamp: the observed time is stored. Map body: stored as JSON.
	r2 := sl.LogRecords().AppendEmpty()
	r2.SetObservedTimestamp(pcommon.Timestamp(1_764_000_001_000_000_000))
	r2.Body().SetEmptyMap().PutInt("code", 3)
	return ld
}

type logRow struct {
	Timestamp                               time.Time
	TraceID, SpanID                         string
	TraceFlags                              uint8
	SeverityText                            string
	SeverityNumber                          uint8
	ServiceName, Body, ResourceSchemaURL    string
	ResourceAttributes                      map[string]string
	ScopeSchemaURL, ScopeName, ScopeVersion string
	ScopeAttributes, LogAttributes          map[string]string
	EventName, PodName                      string
}

// TestLogsRoundTripEveryField writes log records through the exporter and reads every column
// back, including the materialized Kubernetes column the DDL derives from resource attributes.
func TestLogsRoundTripEveryField(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	exp, err := NewFactory().CreateLogs(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	ld := testLogs()
	if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatalf("consume: %v", err)
	}
	conn := openDB(t, endpoint)
	rows, err := conn.Query(context.Background(), "SELECT Timestamp, TraceId, SpanId, TraceFlags, SeverityText, "+
		"SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, "+
		"ScopeVersion, ScopeAttributes, LogAttributes, EventName, `__otel_materialized_k8s.pod.name` FROM "+
		quotedTable(cfg.Database, cfg.LogsTableName)+" ORDER BY Timestamp")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []logRow
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.Timestamp, &r.TraceID, &r.SpanID, &r.TraceFlags, &r.SeverityText, &r.SeverityNumber,
			&r.ServiceName, &r.Body, &r.ResourceSchemaURL, &r.ResourceAttributes, &r.ScopeSchemaURL, &r.ScopeName,
			&r.ScopeVersion, &r.ScopeAttributes, &r.LogAttributes, &r.EventName, &r.PodName); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("read %d rows, want 2", len(got))
	}
	rl := ld.ResourceLogs().At(0)
	rec := rl.ScopeLogs().At(0).LogRecords().At(0)
	want := logRow{
		Timestamp: time.Unix(0, int64(rec.Timestamp())), TraceID: "0102030405060708090a0b0c0d0e0f10",
		SpanID: "0102030405060708", TraceFlags: 1, SeverityText: "WARN", SeverityNumber: 13,
		ServiceName: "api", Body: "disk \xff almost full", ResourceSchemaURL: "https://opentelemetry.io/schemas/1.30.0",
		ResourceAttributes: asStrings(rl.Resource().Attributes()), ScopeSchemaURL: "https://scope.example/1",
		ScopeName: "logger", ScopeVersion: "v2", ScopeAttributes: map[string]string{"scope.n": "7"},
		LogAttributes: asStrings(rec.Attributes()), EventName: "disk.warning", PodName: "api-0",
	}
	got[0].Timestamp = got[0].Timestamp.In(time.Local)
	if g, w := fmt.Sprintf("%+v", got[0]), fmt.Sprintf("%+v", want); g != w || !got[0].Timestamp.Equal(want.Timestamp) {
		t.Errorf("row 0 differs:\n got %.600s\nwant %.600s", g, w)
	}
	if ts := got[1].Timestamp.UnixNano(); ts != 1_764_000_001_000_000_000 {
		t.Errorf("record without timestamp stored at %d, want its observed time", ts)
	}
	if got[1].Body != `{"code":3}` {
		t.Errorf("map body = %q, want JSON", got[1].Body)
	}
}
