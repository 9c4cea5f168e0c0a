package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Logs is the column set of the otel_logs table.
type Logs struct {
	timestamp      *nanosCol
	traceID        strCol
	spanID         strCol
	traceFlags     proto.ColUInt8
	severityText   strCol
	severityNumber proto.ColUInt8
	serviceName    strCol
	body           strCol
	resourceURL    strCol
	resourceAttrs  AttrMap
	scopeURL       strCol
	scopeName      strCol
	scopeVersion   strCol
	scopeAttrs     AttrMap
	logAttrs       AttrMap
	eventName      strCol

	input proto.Input
}

// NewLogs returns an empty logs block.
func NewLogs() *Logs {
	l := &Logs{timestamp: newDateTime64()}
	l.input = proto.Input{
		{Name: "Timestamp", Data: l.timestamp},
		{Name: "TraceId", Data: &l.traceID},
		{Name: "SpanId", Data: &l.spanID},
		{Name: "TraceFlags", Data: &l.traceFlags},
		{Name: "SeverityText", Data: &l.severityText},
		{Name: "SeverityNumber", Data: &l.severityNumber},
		{Name: "ServiceName", Data: &l.serviceName},
		{Name: "Body", Data: &l.body},
		{Name: "ResourceSchemaUrl", Data: &l.resourceURL},
		{Name: "ResourceAttributes", Data: &l.resourceAttrs},
		{Name: "ScopeSchemaUrl", Data: &l.scopeURL},
		{Name: "ScopeName", Data: &l.scopeName},
		{Name: "ScopeVersion", Data: &l.scopeVersion},
		{Name: "ScopeAttributes", Data: &l.scopeAttrs},
		{Name: "LogAttributes", Data: &l.logAttrs},
		{Name: "EventName", Data: &l.eventName},
	}
	return l
}

// Append converts every log record of ld into rows.
func (l *Logs) Append(ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		service := serviceName(res)
		first := true
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				if first {
					l.resourceAttrs.Append(res)
					first = false
				} else {
					l.resourceAttrs.AppendRepeat()
				}
				l.appendRecord(r, rl, sl, service)
			}
		}
	}
}

// appendRecord adds every column of one record but the resource attributes, which Append fills.
func (l *Logs) appendRecord(r plog.LogRecord, rl plog.ResourceLogs, sl plog.ScopeLogs, service string) {
	// Records without a timestamp use the observed time, as the contrib exporter does, so
	// they still land in a sensible partition.
	ts := r.Timestamp()
	if ts == 0 {
		ts = r.ObservedTimestamp()
	}
	scope := sl.Scope()
	l.timestamp.AppendRaw(proto.DateTime64(ts))
	l.traceID.appendTraceID(r.TraceID())
	l.spanID.appendSpanID(r.SpanID())
	l.traceFlags.Append(uint8(r.Flags()))
	l.severityText.Append(r.SeverityText())
	l.severityNumber.Append(uint8(r.SeverityNumber()))
	l.serviceName.Append(service)
	l.body.appendValue(r.Body())
	l.resourceURL.Append(rl.SchemaUrl())
	l.scopeURL.Append(sl.SchemaUrl())
	l.scopeName.Append(scope.Name())
	l.scopeVersion.Append(scope.Version())
	l.scopeAttrs.Append(scope.Attributes())
	l.logAttrs.Append(r.Attributes())
	l.eventName.Append(r.EventName())
}

// Rows is the number of records appended.
func (l *Logs) Rows() int { return l.timestamp.Rows() }

// Input returns the columns in insert order.
func (l *Logs) Input() proto.Input { return l.input }

// Reset empties the block, keeping capacity.
func (l *Logs) Reset() {
	resetInput(l.input)
}
