package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Traces is the column set of the otel_traces table.
type Traces struct {
	timestamp     *nanosCol
	traceID       strCol
	spanID        strCol
	parentSpanID  strCol
	traceState    strCol
	spanName      strCol
	spanKind      strCol
	serviceName   strCol
	resourceAttrs AttrMap
	scopeName     strCol
	scopeVersion  strCol
	spanAttrs     AttrMap
	duration      proto.ColUInt64
	statusCode    strCol
	statusMessage strCol

	eventTimes  *nanosCol
	eventNames  strCol
	eventAttrs  AttrMap
	eventTime   *arrCol
	eventName   *arrCol
	eventAttr   *arrCol
	linkTraceID strCol
	linkSpanID  strCol
	linkState   strCol
	linkAttrs   AttrMap
	linkTraceA  *arrCol
	linkSpanA   *arrCol
	linkStateA  *arrCol
	linkAttrA   *arrCol

	input proto.Input
}

// NewTraces returns an empty traces block.
func NewTraces() *Traces {
	t := &Traces{timestamp: newDateTime64(), eventTimes: newDateTime64()}
	t.eventTime, t.eventName, t.eventAttr = newArr(t.eventTimes), newArr(&t.eventNames), newArr(&t.eventAttrs)
	t.linkTraceA, t.linkSpanA = newArr(&t.linkTraceID), newArr(&t.linkSpanID)
	t.linkStateA, t.linkAttrA = newArr(&t.linkState), newArr(&t.linkAttrs)
	t.input = proto.Input{
		{Name: "Timestamp", Data: t.timestamp},
		{Name: "TraceId", Data: &t.traceID},
		{Name: "SpanId", Data: &t.spanID},
		{Name: "ParentSpanId", Data: &t.parentSpanID},
		{Name: "TraceState", Data: &t.traceState},
		{Name: "SpanName", Data: &t.spanName},
		{Name: "SpanKind", Data: &t.spanKind},
		{Name: "ServiceName", Data: &t.serviceName},
		{Name: "ResourceAttributes", Data: &t.resourceAttrs},
		{Name: "ScopeName", Data: &t.scopeName},
		{Name: "ScopeVersion", Data: &t.scopeVersion},
		{Name: "SpanAttributes", Data: &t.spanAttrs},
		{Name: "Duration", Data: &t.duration},
		{Name: "StatusCode", Data: &t.statusCode},
		{Name: "StatusMessage", Data: &t.statusMessage},
		{Name: "Events.Timestamp", Data: t.eventTime},
		{Name: "Events.Name", Data: t.eventName},
		{Name: "Events.Attributes", Data: t.eventAttr},
		{Name: "Links.TraceId", Data: t.linkTraceA},
		{Name: "Links.SpanId", Data: t.linkSpanA},
		{Name: "Links.TraceState", Data: t.linkStateA},
		{Name: "Links.Attributes", Data: t.linkAttrA},
	}
	return t
}

// Append converts every span of td into rows.
func (t *Traces) Append(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes()
		service := serviceName(res)
		first := true
		for _, ss := range rs.ScopeSpans().All() {
			scope := ss.Scope()
			for _, span := range ss.Spans().All() {
				if first {
					t.resourceAttrs.Append(res)
					first = false
				} else {
					t.resourceAttrs.AppendRepeat()
				}
				t.appendSpan(span, service, scope)
			}
		}
	}
}

// appendSpan adds every column of one span but the resource attributes, which Append fills.
func (t *Traces) appendSpan(span ptrace.Span, service string, scope pcommon.InstrumentationScope) {
	start, end := span.StartTimestamp(), span.EndTimestamp()
	t.timestamp.AppendRaw(proto.DateTime64(start))
	t.traceID.appendTraceID(span.TraceID())
	t.spanID.appendSpanID(span.SpanID())
	t.parentSpanID.appendSpanID(span.ParentSpanID())
	t.traceState.Append(span.TraceState().AsRaw())
	t.spanName.Append(span.Name())
	t.spanKind.Append(span.Kind().String())
	t.serviceName.Append(service)
	t.scopeName.Append(scope.Name())
	t.scopeVersion.Append(scope.Version())
	t.spanAttrs.Append(span.Attributes())
	// Duration is end-start as unsigned nanoseconds, wrapping like the contrib exporter's
	// uint64 subtraction when end < start.
	t.duration.Append(uint64(end - start))
	status := span.Status()
	t.statusCode.Append(status.Code().String())
	t.statusMessage.Append(status.Message())
	t.appendEvents(span.Events())
	t.appendLinks(span.Links())
}

func (t *Traces) appendEvents(events ptrace.SpanEventSlice) {
	for _, e := range events.All() {
		t.eventTimes.AppendRaw(proto.DateTime64(e.Timestamp()))
		t.eventNames.Append(e.Name())
		t.eventAttrs.Append(e.Attributes())
	}
	t.eventTime.closeRow()
	t.eventName.closeRow()
	t.eventAttr.closeRow()
}

func (t *Traces) appendLinks(links ptrace.SpanLinkSlice) {
	for _, l := range links.All() {
		t.linkTraceID.appendTraceID(l.TraceID())
		t.linkSpanID.appendSpanID(l.SpanID())
		t.linkState.Append(l.TraceState().AsRaw())
		t.linkAttrs.Append(l.Attributes())
	}
	t.linkTraceA.closeRow()
	t.linkSpanA.closeRow()
	t.linkStateA.closeRow()
	t.linkAttrA.closeRow()
}

// Rows is the number of spans appended.
func (t *Traces) Rows() int { return t.timestamp.Rows() }

// Input returns the columns in insert order.
func (t *Traces) Input() proto.Input { return t.input }

// Reset empties the block, keeping capacity.
func (t *Traces) Reset() { resetInput(t.input) }
