package sluicereceiver

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestPipelineGetsTheProtobufSize: the size the receiver already knows travels to the
// pipeline (internal/reqsize) for gRPC and protobuf over HTTP, compressed or not; JSON's
// body size is not a protobuf size, so it carries none.
func TestPipelineGetsTheProtobufSize(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s, nil)
	td := testTraces(50)
	want := fmt.Sprintf("50/%d", (&ptrace.ProtoMarshaler{}).TracesSize(td))
	req := ptraceotlp.NewExportRequestFromTraces(td)
	_, err := ptraceotlp.NewGRPCClient(grpcConn(t, r)).Export(context.Background(), req)
	require.NoError(t, err)
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	require.Equal(t, http.StatusOK, post(t, url, "application/x-protobuf", pb, nil).code)
	require.Equal(t, http.StatusOK, post(t, url, "application/x-protobuf", gzipped(pb), map[string]string{"Content-Encoding": "gzip"}).code)
	require.Equal(t, http.StatusOK, post(t, url, "application/json", js, nil).code)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, []string{want, want, want, "none"}, s.sizes)
}
