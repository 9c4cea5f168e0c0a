package loadgen

import (
	"encoding/binary"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTracesTemplateRendersUniqueItems(t *testing.T) {
	tpl, err := NewTemplate(Traces, "acme", Shape{ItemsPerRequest: 120, Attributes: 3, TenantInResource: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []uint64{1, 1_000_001} {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(tpl.Render(nil, first)); err != nil {
			t.Fatal(err)
		}
		rs := req.Traces().ResourceSpans().At(0)
		if v, _ := rs.Resource().Attributes().Get(TenantAttribute); v.Str() != "acme" {
			t.Errorf("tenant.id = %q", v.Str())
		}
		spans := rs.ScopeSpans().At(0).Spans()
		if spans.Len() != 120 {
			t.Fatalf("%d spans", spans.Len())
		}
		for i := range spans.Len() {
			s := spans.At(i)
			want := first + uint64(i)
			if v, _ := s.Attributes().Get(SeqAttribute); v.Str() != FormatSeq(want) {
				t.Fatalf("span %d: %s = %q, want %q", i, SeqAttribute, v.Str(), FormatSeq(want))
			}
			id := s.SpanID()
			if got := binary.BigEndian.Uint64(id[:]); got != want {
				t.Fatalf("span %d: span id %d, want %d", i, got, want)
			}
			if v, _ := s.Attributes().Get("app.attr.2"); v.Str() == "" {
				t.Fatalf("span %d lacks its extra attributes", i)
			}
		}
	}
}

func TestLogsTemplateRendersUniqueItems(t *testing.T) {
	tpl, err := NewTemplate(Logs, "", Shape{ItemsPerRequest: 50})
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(tpl.Render(make([]byte, 3), 42)); err != nil {
		t.Fatal(err)
	}
	recs := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if recs.Len() != 50 {
		t.Fatalf("%d records", recs.Len())
	}
	for i := range recs.Len() {
		if v, _ := recs.At(i).Attributes().Get(SeqAttribute); v.Str() != FormatSeq(42+uint64(i)) {
			t.Fatalf("record %d: %q", i, v.Str())
		}
	}
}

func TestCodeName(t *testing.T) {
	for code, want := range map[string]string{
		codeName(8): "RESOURCE_EXHAUSTED", codeName(14): "UNAVAILABLE", codeName(0): "OK",
	} {
		if code != want {
			t.Errorf("got %q, want %q", code, want)
		}
	}
}
