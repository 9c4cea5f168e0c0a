package sluicereceiver

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

func TestTelemetryCountsRequestsByOutcomeAndCanonicalReason(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	s := &sink{script: []error{backpressure.QueueFull("full", time.Second)}}
	_, h := handlerWith(t, metadatatest.NewSettings(tt), s, nil)
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	send := func(ct string) int {
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, 429, send("application/x-protobuf"))
	assert.Equal(t, 200, send("application/x-protobuf"))
	assert.Equal(t, 415, send("text/plain"))

	point := func(outcome, reason string) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: 1, Attributes: attribute.NewSet(
			attribute.String("outcome", outcome), attribute.String("reason", reason),
			attribute.String("signal", "traces"), attribute.String("transport", "http"))}
	}
	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{
		point("refused", "downstream_backpressure"), point("accepted", "none"), point("refused", "invalid"),
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualSluiceReceiverInflightRequests(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualSluiceReceiverInflightBytes(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())

	accepted, err := tt.GetMetric("otelcol_receiver_accepted_spans")
	require.NoError(t, err, "standard obsreport metrics keep working")
	assert.Equal(t, int64(3), accepted.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}

// TestWaitingRequestsGauge: a request queued for admission shows in
// sluice_receiver_waiting_requests until it is admitted.
func TestWaitingRequestsGauge(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	s := &sink{onCall: func() { entered <- struct{}{}; <-release }}
	_, h := handlerWith(t, metadatatest.NewSettings(tt), s, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
		c.Admission.MaxWaitingRequests = 1
		c.Admission.MaxWait = time.Minute
	})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	codes := make(chan int, 2)
	send := func() {
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		codes <- rec.Code
	}
	waiting := func() int64 {
		m, err := tt.GetMetric("otelcol_sluice_receiver_waiting_requests")
		require.NoError(t, err)
		return m.Data.(metricdata.Sum[int64]).DataPoints[0].Value
	}
	go send()
	<-entered // the first request holds the only slot
	go send()
	require.Eventually(t, func() bool { return waiting() == 1 }, 30*time.Second, 5*time.Millisecond)
	close(release)
	assert.Equal(t, 200, <-codes)
	assert.Equal(t, 200, <-codes)
	assert.Equal(t, int64(0), waiting())
}

// TestAdmissionWaitIsNotRecordedForRefusalsThatDidNotWait: the wait histogram holds the
// admitted request, not the one refused at once.
func TestAdmissionWaitIsNotRecordedForRefusalsThatDidNotWait(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r, _ := handlerWith(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, out := r.admit(context.Background(), "traces", "grpc", 0)
	require.False(t, out.IsError())
	defer hold()
	_, out = r.admit(context.Background(), "traces", "grpc", 0)
	require.True(t, out.IsError())

	m, err := tt.GetMetric("otelcol_sluice_receiver_admission_wait_duration")
	require.NoError(t, err)
	points := m.Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, points, 1)
	assert.Equal(t, uint64(1), points[0].Count, "the admitted request only")
}
