package sluicereceiver

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestGRPCAdmitsTheUncompressedMessageSize checks that gRPC requests are weighed by the
// size gRPC reports, which equals the serialized request.
func TestGRPCAdmitsTheUncompressedMessageSize(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s, nil)
	var held atomic.Int64
	s.mu.Lock()
	s.onCall = func() { held.Store(r.gate.Stats().Bytes) }
	s.mu.Unlock()
	td := testTraces(50)
	_, err := ptraceotlp.NewGRPCClient(grpcConn(t, r)).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td))
	require.NoError(t, err)
	assert.Equal(t, int64((&ptrace.ProtoMarshaler{}).TracesSize(td)), held.Load())
}
