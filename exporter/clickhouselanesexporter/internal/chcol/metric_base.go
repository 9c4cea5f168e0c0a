package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// metricBase holds the leading columns every metric table shares.
type metricBase struct {
	resourceAttrs AttrMap
	resourceURL   strCol
	scopeName     strCol
	scopeVersion  strCol
	scopeAttrs    AttrMap
	scopeDropped  proto.ColUInt32
	scopeURL      strCol
	serviceName   strCol
	metricName    strCol
	description   strCol
	unit          strCol
	attrs         AttrMap
	startTime     secondsCol
	time          secondsCol

	input proto.Input
}

func (b *metricBase) init() {
	b.input = proto.Input{
		{Name: "ResourceAttributes", Data: &b.resourceAttrs},
		{Name: "ResourceSchemaUrl", Data: &b.resourceURL},
		{Name: "ScopeName", Data: &b.scopeName},
		{Name: "ScopeVersion", Data: &b.scopeVersion},
		{Name: "ScopeAttributes", Data: &b.scopeAttrs},
		{Name: "ScopeDroppedAttrCount", Data: &b.scopeDropped},
		{Name: "ScopeSchemaUrl", Data: &b.scopeURL},
		{Name: "ServiceName", Data: &b.serviceName},
		{Name: "MetricName", Data: &b.metricName},
		{Name: "MetricDescription", Data: &b.description},
		{Name: "MetricUnit", Data: &b.unit},
		{Name: "Attributes", Data: &b.attrs},
		{Name: "StartTimeUnix", Data: &b.startTime},
		{Name: "TimeUnix", Data: &b.time},
	}
}

// metricContext is the resource, scope and metric a data point belongs to.
type metricContext struct {
	rm      pmetric.ResourceMetrics
	sm      pmetric.ScopeMetrics
	m       pmetric.Metric
	service string
}

// appendBase adds the shared columns of one data point. Times are DateTime (whole seconds), as
// in the contrib schema.
func (b *metricBase) appendBase(mc *metricContext, attrs pcommon.Map, start, ts pcommon.Timestamp) {
	scope := mc.sm.Scope()
	b.resourceAttrs.Append(mc.rm.Resource().Attributes())
	b.resourceURL.Append(mc.rm.SchemaUrl())
	b.scopeName.Append(scope.Name())
	b.scopeVersion.Append(scope.Version())
	b.scopeAttrs.Append(scope.Attributes())
	b.scopeDropped.Append(scope.DroppedAttributesCount())
	b.scopeURL.Append(mc.sm.SchemaUrl())
	b.serviceName.Append(mc.service)
	b.metricName.Append(mc.m.Name())
	b.description.Append(mc.m.Description())
	b.unit.Append(mc.m.Unit())
	b.attrs.Append(attrs)
	b.startTime.AppendRaw(seconds(start))
	b.time.AppendRaw(seconds(ts))
}

func seconds(ts pcommon.Timestamp) proto.DateTime { return proto.DateTime(uint64(ts) / 1e9) }

// Rows is the number of data points appended.
func (b *metricBase) Rows() int { return b.time.Rows() }

// Input returns the columns in insert order.
func (b *metricBase) Input() proto.Input { return b.input }

// Reset empties the block, keeping capacity.
func (b *metricBase) Reset() {
	resetInput(b.input)
}

// exemplars are the Exemplars Nested columns.
type exemplars struct {
	attrs    AttrMap
	times    proto.ColDateTime
	values   proto.ColFloat64
	spanIDs  strCol
	traceIDs strCol
	arrays   [5]*arrCol
}

func newExemplars() *exemplars {
	e := &exemplars{}
	e.arrays = [5]*arrCol{newArr(&e.attrs), newArr(&e.times), newArr(&e.values), newArr(&e.spanIDs), newArr(&e.traceIDs)}
	return e
}

func (e *exemplars) columns() proto.Input {
	return proto.Input{
		{Name: "Exemplars.FilteredAttributes", Data: e.arrays[0]},
		{Name: "Exemplars.TimeUnix", Data: e.arrays[1]},
		{Name: "Exemplars.Value", Data: e.arrays[2]},
		{Name: "Exemplars.SpanId", Data: e.arrays[3]},
		{Name: "Exemplars.TraceId", Data: e.arrays[4]},
	}
}

func (e *exemplars) append(s pmetric.ExemplarSlice) {
	for _, x := range s.All() {
		e.attrs.Append(x.FilteredAttributes())
		e.times.AppendRaw(seconds(x.Timestamp()))
		e.values.Append(exemplarValue(x))
		e.spanIDs.appendSpanID(x.SpanID())
		e.traceIDs.appendTraceID(x.TraceID())
	}
	for _, a := range e.arrays {
		a.closeRow()
	}
}

func exemplarValue(x pmetric.Exemplar) float64 {
	if x.ValueType() == pmetric.ExemplarValueTypeInt {
		return float64(x.IntValue())
	}
	return x.DoubleValue()
}

func numberValue(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}
