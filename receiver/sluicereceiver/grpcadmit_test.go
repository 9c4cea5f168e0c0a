package sluicereceiver

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

// TestARefusedRequestIsNeverDecoded holds the only admission slot, so every request is
// refused, and counts the decoder's calls: none for refusals on either transport, one per
// request once the slot is free.
func TestARefusedRequestIsNeverDecoded(t *testing.T) {
	var decoded atomic.Int64
	r := startReceiverWith(t, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 },
		func(r *otlpReceiver) {
			r.traces.decoder = func(enc *encoding, req ptraceotlp.ExportRequest, body []byte) error {
				decoded.Add(1)
				return enc.unmarshal(req, body)
			}
		})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(100)).MarshalProto()
	cc := grpcConn(t, r)
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	send := func() (codes.Code, int) {
		grpcCode := status.Code(exportRaw(t.Context(), cc, "traces", body))
		return grpcCode, post(t, url, "application/x-protobuf", body, nil).code
	}

	hold, out := r.admit(context.Background(), "traces", "grpc", 0)
	require.False(t, out.IsError())
	for range 5 {
		grpcCode, httpCode := send()
		require.Equal(t, codes.ResourceExhausted, grpcCode)
		require.Equal(t, http.StatusTooManyRequests, httpCode)
	}
	assert.Zero(t, decoded.Load(), "refused requests were decoded")

	hold()
	grpcCode, httpCode := send()
	require.Equal(t, codes.OK, grpcCode)
	require.Equal(t, http.StatusOK, httpCode)
	assert.Equal(t, int64(2), decoded.Load(), "each admitted request decoded once")
}

// TestRefusedGRPCRequestsCountTheirItems: a request refused before decoding still adds its
// spans to receiver_refused_spans, counted on the wire.
func TestRefusedGRPCRequestsCountTheirItems(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r, _ := handlerWith(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(37)).MarshalProto()
	msg := &receivedMessage{data: mem.BufferSlice{mem.SliceBuffer(body)}}
	_, err := r.traces.exportGRPC(context.Background(), msg)
	require.Equal(t, codes.ResourceExhausted, status.Code(err))

	refused, err := tt.GetMetric("otelcol_receiver_refused_spans")
	require.NoError(t, err)
	assert.Equal(t, int64(37), refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}
