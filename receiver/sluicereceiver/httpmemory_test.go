package sluicereceiver

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

// TestChunkedBodyIsAdmittedAsItArrives: a chunked body (no Content-Length) holds admitted
// bytes for what has arrived while it is still being read, so another request that would
// take the gate past max_inflight_bytes is refused, and that refusal is counted.
func TestChunkedBodyIsAdmittedAsItArrives(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	const maxBytes = 256 << 10
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) { c.Admission.MaxInflightBytes = maxBytes }, nil)
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(8000)).MarshalProto()
	require.Greater(t, len(body), maxBytes)
	part := 200 << 10
	url := "http://" + r.httpAddr.String() + "/v1/traces"

	pr, pw := io.Pipe()
	chunked := make(chan httpResult, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url, pr) // unknown length: chunked
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if !assert.NoError(t, err) {
			chunked <- httpResult{}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		chunked <- httpResult{code: resp.StatusCode}
	}()
	_, err := pw.Write(body[:part])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.gate.Stats().Bytes >= int64(part) }, time.Minute, time.Millisecond,
		"the part that arrived is admitted")

	small, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	res := post(t, url, "application/x-protobuf", small, nil)
	assert.Equal(t, http.StatusTooManyRequests, res.code)
	assert.Contains(t, res.status.GetMessage(), "admission.max_inflight_bytes")

	go func() {
		// The server may answer before reading it all; closing pr below unblocks this.
		if _, err := pw.Write(body[part:]); err == nil {
			_ = pw.Close()
		}
	}()
	assert.Equal(t, http.StatusRequestEntityTooLarge, (<-chunked).code, "the whole body is over max_inflight_bytes")
	_ = pr.Close()
	assert.Equal(t, int64(0), r.gate.Stats().Bytes)

	attrs := func(reason string) attribute.Set {
		return attribute.NewSet(attribute.String("outcome", "refused"), attribute.String("reason", reason),
			attribute.String("signal", "traces"), attribute.String("transport", "http"))
	}
	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attrs("inflight_bytes")}, {Value: 1, Attributes: attrs("too_large")},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestClaimedLengthIsNotAllocatedWithoutAdmissionLimits: with both admission limits off,
// bodies that claim the largest allowed size and send one byte cost one small buffer each,
// not their claim.
func TestClaimedLengthIsNotAllocatedWithoutAdmissionLimits(t *testing.T) {
	const conns = 20
	r := startReceiver(t, &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 0
		c.Admission.MaxInflightBytes = 0
	})
	limit := r.cfg.Protocols.HTTP.Get().ServerConfig.MaxRequestBodySize
	require.Equal(t, int64(20<<20), limit, "confighttp's default")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range conns {
		trickle(t, r.httpAddr, int(limit))
	}
	require.Eventually(t, func() bool { return r.gate.Stats().Bytes == conns*firstChunk }, time.Minute, time.Millisecond)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(conns*limit/4), "%d bytes allocated for %d one-byte bodies", allocated, conns)

	// And the receiver still serves.
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	assert.Equal(t, http.StatusOK, post(t, "http://"+r.httpAddr.String()+"/v1/traces", "application/x-protobuf", body, nil).code)
}

// TestHTTPRefusalAfterTheBodyCountsItsItems: a request whose body was read but that found
// no slot in time is counted in receiver_refused_spans with its spans.
func TestHTTPRefusalAfterTheBodyCountsItsItems(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
		c.Admission.MaxWaitingRequests = 1
		c.Admission.MaxWait = 50 * time.Millisecond
	}, nil)
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(7)).MarshalProto()
	res := post(t, "http://"+r.httpAddr.String()+"/v1/traces", "application/x-protobuf", body, nil)
	assert.Equal(t, http.StatusTooManyRequests, res.code)
	refused, err := tt.GetMetric("otelcol_receiver_refused_spans")
	require.NoError(t, err)
	assert.Equal(t, int64(7), refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}
