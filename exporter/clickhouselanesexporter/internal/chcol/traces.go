package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Traces is the column set of the otel_traces table.
type Traces struct {
	timestamp     *proto.ColDateTime64
	traceID       proto.ColStr
	spanID        proto.ColStr
	parentSpanID  proto.ColStr
	traceState    proto.ColStr
	spanName      *lowCard
	spanKind      *lowCard
	serviceName   *lowCard
	resourceAttrs *AttrMap
	scopeName     proto.ColStr
	scopeVersion  proto.ColStr
	spanAttrs     *AttrMap
	duration      proto.ColUInt64
	statusCode    *lowCard
	statusMessage proto.ColStr

	eventTime  *proto.ColArr[time64]
	eventTimes *proto.ColDateTime64
	eventName  *proto.ColArr[string]
	eventNames *lowCard
	eventAttrs *attrMapArray

	linkTraceID  *proto.ColArr[string]
	linkTraceIDs *proto.ColStr
	linkSpanID   *proto.ColArr[string]
	linkSpanIDs  *proto.ColStr
	linkState    *proto.ColArr[string]
	linkStates   *proto.ColStr
	linkAttrs    *attrMapArray

	input proto.Input
}

// NewTraces returns an empty traces block.
func NewTraces() *Traces {
	t := &Traces{
		timestamp: newDateTime64(), spanName: newLowCard(), spanKind: newLowCard(),
		serviceName: newLowCard(), resourceAttrs: NewAttrMap(), spanAttrs: NewAttrMap(),
		statusCode: newLowCard(), eventTimes: newDateTime64(), eventNames: newLowCard(),
		eventAttrs: newAttrMapArray(), linkTraceIDs: new(proto.ColStr), linkSpanIDs: new(proto.ColStr),
		linkStates: new(proto.ColStr), linkAttrs: newAttrMapArray(),
	}
	t.eventTime = proto.NewArray[time64](t.eventTimes)
	t.eventName = proto.NewArray[string](t.eventNames)
	t.linkTraceID = proto.NewArray[string](t.linkTraceIDs)
	t.linkSpanID = proto.NewArray[string](t.linkSpanIDs)
	t.linkState = proto.NewArray[string](t.linkStates)
	t.input = proto.Input{
		{Name: "Timestamp", Data: t.timestamp},
		{Name: "TraceId", Data: &t.traceID},
		{Name: "SpanId", Data: &t.spanID},
		{Name: "ParentSpanId", Data: &t.parentSpanID},
		{Name: "TraceState", Data: &t.traceState},
		{Name: "SpanName", Data: t.spanName},
		{Name: "SpanKind", Data: t.spanKind},
		{Name: "ServiceName", Data: t.serviceName},
		{Name: "ResourceAttributes", Data: t.resourceAttrs.Column()},
		{Name: "ScopeName", Data: &t.scopeName},
		{Name: "ScopeVersion", Data: &t.scopeVersion},
		{Name: "SpanAttributes", Data: t.spanAttrs.Column()},
		{Name: "Duration", Data: &t.duration},
		{Name: "StatusCode", Data: t.statusCode},
		{Name: "StatusMessage", Data: &t.statusMessage},
		{Name: "Events.Timestamp", Data: t.eventTime},
		{Name: "Events.Name", Data: t.eventName},
		{Name: "Events.Attributes", Data: t.eventAttrs.col},
		{Name: "Links.TraceId", Data: t.linkTraceID},
		{Name: "Links.SpanId", Data: t.linkSpanID},
		{Name: "Links.TraceState", Data: t.linkState},
		{Name: "Links.Attributes", Data: t.linkAttrs.col},
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
	appendTraceID(&t.traceID, span.TraceID())
	appendSpanID(&t.spanID, span.SpanID())
	appendSpanID(&t.parentSpanID, span.ParentSpanID())
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
		t.eventAttrs.appendElem(e.Attributes())
	}
	n := uint64(t.eventTimes.Rows())
	t.eventTime.Offsets = append(t.eventTime.Offsets, n)
	t.eventName.Offsets = append(t.eventName.Offsets, n)
	t.eventAttrs.closeRow()
}

func (t *Traces) appendLinks(links ptrace.SpanLinkSlice) {
	for _, l := range links.All() {
		appendTraceID(t.linkTraceIDs, l.TraceID())
		appendSpanID(t.linkSpanIDs, l.SpanID())
		t.linkStates.Append(l.TraceState().AsRaw())
		t.linkAttrs.appendElem(l.Attributes())
	}
	n := uint64(t.linkTraceIDs.Rows())
	t.linkTraceID.Offsets = append(t.linkTraceID.Offsets, n)
	t.linkSpanID.Offsets = append(t.linkSpanID.Offsets, n)
	t.linkState.Offsets = append(t.linkState.Offsets, n)
	t.linkAttrs.closeRow()
}

// Rows is the number of spans appended.
func (t *Traces) Rows() int { return t.timestamp.Rows() }

// Input returns the columns in insert order.
func (t *Traces) Input() proto.Input { return t.input }

// Reset empties the block, keeping capacity.
func (t *Traces) Reset() {
	resetInput(t.input)
}
