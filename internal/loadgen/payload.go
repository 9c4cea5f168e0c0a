package loadgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Signal is the kind of telemetry a generator sends.
type Signal string

// The signals the generator can send.
const (
	Traces Signal = "traces"
	Logs   Signal = "logs"
)

// SeqAttribute is the attribute every item carries with its unique sequence number: a
// fixed-width decimal string, so landed rows can be checked with
// count() == uniqExact(SpanAttributes['load.seq']).
const SeqAttribute = "load.seq"

// TenantAttribute is the resource attribute naming the tenant when tenants travel in the
// resource rather than in request metadata.
const TenantAttribute = "tenant.id"

// seqWidth digits hold any uint64.
const seqWidth = 20

// Template is one pre-encoded OTLP export request. Each item's sequence number sits at a
// known offset in the bytes, so a request with fresh ids costs one copy and a few digit
// writes, like an exporter sending already-serialised data.
type Template struct {
	Signal Signal
	Tenant string
	Items  int
	body   []byte
	seqAt  []int // offsets of each item's seqWidth-digit placeholder
	idAt   []int // offsets of each span's 8-byte span id (traces only)
}

// Size is the encoded request size in bytes.
func (t *Template) Size() int { return len(t.body) }

// Render writes the request with items numbered first, first+1, ... into dst (grown as
// needed) and returns it.
func (t *Template) Render(dst []byte, first uint64) []byte {
	dst = append(dst[:0], t.body...)
	for i, off := range t.seqAt {
		formatSeq(dst[off:off+seqWidth], first+uint64(i))
	}
	for i, off := range t.idAt {
		// Span ids must be non-zero; first starts at 1.
		binary.BigEndian.PutUint64(dst[off:off+8], first+uint64(i))
	}
	return dst
}

// formatSeq writes v as a zero-padded decimal into exactly seqWidth bytes.
func formatSeq(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// FormatSeq is the attribute value item seq carries.
func FormatSeq(v uint64) string {
	b := make([]byte, seqWidth)
	formatSeq(b, v)
	return string(b)
}

// Shape describes the requests: items per request and attributes per item.
type Shape struct {
	ItemsPerRequest int
	// Attributes is the number of extra string attributes per item (besides load.seq).
	Attributes int
	// TenantInResource puts tenant.id into the resource attributes.
	TenantInResource bool
}

// placeholder is unique per item so its offset can be found in the marshalled bytes.
func placeholder(i int) string {
	s := strconv.Itoa(i)
	return "#" + string(bytes.Repeat([]byte{'~'}, seqWidth-1-len(s))) + s
}

// NewTemplate builds and encodes one request of shape for signal and tenant.
func NewTemplate(signal Signal, tenant string, shape Shape) (*Template, error) {
	if shape.ItemsPerRequest <= 0 {
		return nil, fmt.Errorf("items per request must be positive, found %d", shape.ItemsPerRequest)
	}
	now := time.Now()
	t := &Template{Signal: signal, Tenant: tenant, Items: shape.ItemsPerRequest}
	const spanIDMarker = "\xfe\xed\xfa\xce" // first half of a marker span id, the index follows
	switch signal {
	case Traces:
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		fillResource(rs.Resource(), tenant, shape)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("sluiceload")
		ss.Scope().SetVersion("0.1.0")
		for i := range shape.ItemsPerRequest {
			s := ss.Spans().AppendEmpty()
			var tid [16]byte
			binary.BigEndian.PutUint64(tid[:8], uint64(now.UnixNano()))
			binary.BigEndian.PutUint64(tid[8:], uint64(i/10))
			s.SetTraceID(tid)
			var sid [8]byte
			copy(sid[:4], spanIDMarker)
			binary.BigEndian.PutUint32(sid[4:], uint32(i))
			s.SetSpanID(sid)
			if i%10 != 0 {
				var parent [8]byte
				binary.BigEndian.PutUint64(parent[:], uint64(i-i%10+1))
				s.SetParentSpanID(parent)
			}
			s.SetName(fmt.Sprintf("GET /api/v1/items/%d", i%17))
			s.SetKind(ptrace.SpanKindServer)
			start := now.Add(-time.Duration(i) * time.Millisecond)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(1+i%50) * time.Millisecond)))
			s.Status().SetCode(ptrace.StatusCodeOk)
			a := s.Attributes()
			a.PutStr(SeqAttribute, placeholder(i))
			a.PutStr("http.request.method", "GET")
			a.PutInt("http.response.status_code", 200)
			fillAttributes(a, i, shape.Attributes)
		}
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			return nil, err
		}
		t.body = body
		for i := range shape.ItemsPerRequest {
			var sid [8]byte
			copy(sid[:4], spanIDMarker)
			binary.BigEndian.PutUint32(sid[4:], uint32(i))
			off := bytes.Index(body, sid[:])
			if off < 0 {
				return nil, fmt.Errorf("span id of item %d not found in the encoding", i)
			}
			t.idAt = append(t.idAt, off)
		}
	case Logs:
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		fillResource(rl.Resource(), tenant, shape)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("sluiceload")
		for i := range shape.ItemsPerRequest {
			r := sl.LogRecords().AppendEmpty()
			ts := pcommon.NewTimestampFromTime(now.Add(-time.Duration(i) * time.Millisecond))
			r.SetTimestamp(ts)
			r.SetObservedTimestamp(ts)
			r.SetSeverityNumber(plog.SeverityNumberInfo)
			r.SetSeverityText("INFO")
			r.Body().SetStr(fmt.Sprintf("request %d served in %d ms for user u%d from 10.1.%d.%d", i, 1+i%50, i%97, i%7, i%251))
			a := r.Attributes()
			a.PutStr(SeqAttribute, placeholder(i))
			fillAttributes(a, i, shape.Attributes)
		}
		body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		if err != nil {
			return nil, err
		}
		t.body = body
	default:
		return nil, fmt.Errorf("unknown signal %q (traces or logs)", signal)
	}
	for i := range shape.ItemsPerRequest {
		off := bytes.Index(t.body, []byte(placeholder(i)))
		if off < 0 {
			return nil, fmt.Errorf("sequence placeholder of item %d not found in the encoding", i)
		}
		t.seqAt = append(t.seqAt, off)
	}
	return t, nil
}

func fillResource(r pcommon.Resource, tenant string, shape Shape) {
	a := r.Attributes()
	a.PutStr("service.name", "checkout")
	a.PutStr("service.namespace", "shop")
	a.PutStr("service.version", "1.4.2")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("host.name", "node-17.eu-west-1")
	a.PutStr("k8s.pod.name", "checkout-7d9f8b6c5-x2x4k")
	if shape.TenantInResource && tenant != "" {
		a.PutStr(TenantAttribute, tenant)
	}
}

func fillAttributes(a pcommon.Map, i, n int) {
	for k := range n {
		a.PutStr(fmt.Sprintf("app.attr.%d", k), fmt.Sprintf("value-%d-%d", k, (i*31+k)%113))
	}
}
