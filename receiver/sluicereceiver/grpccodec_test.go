package sluicereceiver

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// TestGRPCRequestsArriveWholeAndAreAdmittedUncompressed sends requests that span many
// HTTP/2 frames, plain and with each compressor configgrpc registers: each is admitted at
// its uncompressed size and reaches the pipeline complete.
func TestGRPCRequestsArriveWholeAndAreAdmittedUncompressed(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s, nil)
	var held atomic.Int64
	s.mu.Lock()
	s.onCall = func() { held.Store(r.gate.Stats().Bytes) }
	s.mu.Unlock()
	td := testTraces(5000)
	size := (&ptrace.ProtoMarshaler{}).TracesSize(td)
	require.Greater(t, size, 4*16<<10, "several frames")
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	for _, compressor := range []string{"", "gzip", "zstd", "snappy"} {
		t.Run("compression="+compressor, func(t *testing.T) {
			var opts []grpc.CallOption
			if compressor != "" {
				opts = append(opts, grpc.UseCompressor(compressor))
			}
			_, before, _, _ := s.counts()
			_, err := client.Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(td), opts...)
			require.NoError(t, err)
			_, after, _, _ := s.counts()
			assert.Equal(t, 5000, after-before)
			assert.Equal(t, int64(size), held.Load(), "admitted at the uncompressed size")
		})
	}
}

// TestDecodedRequestsOwnTheirData guards freeing a gRPC message's buffer as soon as it is
// decoded: the decoded request must not point into the bytes, which the pool reuses.
func TestDecodedRequestsOwnTheirData(t *testing.T) {
	r, _ := handlerOnly(t, &sink{}, nil)
	body := benchPayload(t)
	want := ptraceotlp.NewExportRequest()
	require.NoError(t, want.UnmarshalProto(body))
	req, out := r.traces.decode(protoEncoding, body)
	require.False(t, out.IsError())
	for i := range body {
		body[i] = 'x'
	}
	got, _ := req.MarshalProto()
	wantBytes, _ := want.MarshalProto()
	assert.Equal(t, wantBytes, got)
}
