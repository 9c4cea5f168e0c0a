package clickhouselanesexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Counting rows in the protobuf agrees with pdata's counts, for every metric type, and a
// truncated record is an error, not a count.
func TestProtoRowsAgreeWithPdata(t *testing.T) {
	td := ptrace.NewTraces()
	for r := range 3 {
		ss := td.ResourceSpans().AppendEmpty().ScopeSpans()
		for s := range 2 {
			spans := ss.AppendEmpty().Spans()
			for range r + s + 1 {
				spans.AppendEmpty().SetName("x")
			}
		}
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	n, err := tracesSignal.protoRows(b)
	require.NoError(t, err)
	assert.Equal(t, td.SpanCount(), n)
	_, err = tracesSignal.protoRows(b[:len(b)-3])
	assert.Error(t, err)

	b, err = (&plog.ProtoMarshaler{}).MarshalLogs(uniqueLogs("x", 7))
	require.NoError(t, err)
	n, err = logsSignal.protoRows(b)
	require.NoError(t, err)
	assert.Equal(t, 7, n)

	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ms.AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	sum := ms.AppendEmpty().SetEmptySum().DataPoints()
	sum.AppendEmpty()
	sum.AppendEmpty()
	ms.AppendEmpty().SetEmptyHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty()
	b, err = (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	n, err = metricsSignal.protoRows(b)
	require.NoError(t, err)
	assert.Equal(t, md.DataPointCount(), n)
	assert.Equal(t, 6, n)
}
