package sluicereceiver

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

	hold, out := r.admit(context.Background(), "traces", "test", 0)
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
