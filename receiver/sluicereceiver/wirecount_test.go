package sluicereceiver

import (
	"github.com/sluicehq/sluice/internal/otlpwire"

	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func TestCountItemsAgreesWithPdata(t *testing.T) {
	traces, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(37)).MarshalProto()
	assert.Equal(t, 37, countItems(traces, otlpwire.Spans))
	assert.Equal(t, benchSpans, countItems(benchPayload(t), otlpwire.Spans))

	logs, _ := plogotlp.NewExportRequestFromLogs(testLogs(11)).MarshalProto()
	assert.Equal(t, 11, countItems(logs, otlpwire.LogRecords))

	md := testMetrics(3) // a gauge
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ms.AppendEmpty().SetEmptySum().DataPoints().AppendEmpty()
	h := ms.AppendEmpty().SetEmptyHistogram().DataPoints()
	h.AppendEmpty()
	h.AppendEmpty()
	ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetName("no data")
	metrics, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	assert.Equal(t, md.DataPointCount(), countItems(metrics, otlpwire.DataPoints))
	assert.Equal(t, 3+1+2+1+1, md.DataPointCount())
	assert.Equal(t, pmetric.NewMetrics().DataPointCount(), countItems(nil, otlpwire.DataPoints))
}

func TestCountItemsCountsWhatItCanReadOfMalformedInput(t *testing.T) {
	valid, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	for name, body := range malformedTraces(valid) {
		assert.LessOrEqual(t, countItems(body, otlpwire.Spans), 3, name)
	}
}

func BenchmarkCountItems(b *testing.B) {
	body := benchPayload(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if countItems(body, otlpwire.Spans) != benchSpans {
			b.Fatal("miscounted")
		}
	}
}

// countItems is otlpwire.Count as the receiver uses it: what it can read, errors ignored.
func countItems(b []byte, path otlpwire.Path) int {
	n, _ := otlpwire.Count(b, path)
	return n
}
