package sluicereceiver

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

// TestGRPCPastTheTapBoundTheHandlerRefusesAsTheTapWould: with the tap holding all it may,
// a flood from a real client with a deadline is refused by the handler with the tap's
// answer (RESOURCE_EXHAUSTED, its message and RetryInfo), counted as the tap counts it (no
// items), and nothing is decoded or held.
func TestGRPCPastTheTapBoundTheHandlerRefusesAsTheTapWould(t *testing.T) {
	setTapHeldLimit(t, 0)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	var decoded atomic.Int64
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
	}, func(r *otlpReceiver) {
		r.traces.decoder = func(enc *encoding, req ptraceotlp.ExportRequest, body []byte) error {
			decoded.Add(1)
			return enc.unmarshal(req, body)
		}
	})
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const flood = 20
	for range flood {
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(10)))
		requireRefusedOverRequests(t, r, err)
	}
	assert.Zero(t, decoded.Load(), "refused requests were decoded")
	assert.Zero(t, r.tapHeld.count(time.Now()), "the tap refused none")
	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{{
		Value: flood, Attributes: attribute.NewSet(
			attribute.String("outcome", "refused"), attribute.String("reason", "overloaded"),
			attribute.String("signal", "traces"), attribute.String("transport", "grpc")),
	}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	refused, err := tt.GetMetric("otelcol_receiver_refused_spans")
	require.NoError(t, err)
	assert.Zero(t, refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "counted as at the tap")

	hold()
	_, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(10)))
	require.NoError(t, err, "admitted once the slot is free")
	assert.Equal(t, int64(1), decoded.Load())
}

// earlyRefuser refuses every request in refuseEarlyGRPC and keeps the stream's context.
type earlyRefuser struct {
	ctxs     chan context.Context
	exported atomic.Int64
}

func (e *earlyRefuser) refuseEarlyGRPC(ctx context.Context, dec func(any) error) error {
	if err := discard(dec); err != nil {
		return err
	}
	e.ctxs <- ctx
	return status.Error(codes.ResourceExhausted, "refused early")
}

func (e *earlyRefuser) exportGRPC(context.Context, *receivedMessage) (any, error) {
	e.exported.Add(1)
	return emptyResponse, nil
}

// TestGRPCAnEarlyRefusalEndsItsStream: grpc-go cancels the context of a stream the handler
// refused (writing the status finishes the stream), long before the client's deadline, so
// unlike a refusal at the tap it holds nothing; the signal's handler never runs.
func TestGRPCAnEarlyRefusalEndsItsStream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(serverCodec())
	refuser := &earlyRefuser{ctxs: make(chan context.Context, 1)}
	srv.RegisterService(tracesService, refuser)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		require.NoError(t, <-served)
	})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(100)).MarshalProto()
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()

	err = exportRaw(ctx, grpcConnAddr(t, ln.Addr().String()), "traces", body)
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	streamCtx := <-refuser.ctxs
	select {
	case <-streamCtx.Done():
		assert.True(t, errors.Is(streamCtx.Err(), context.Canceled), "cancelled, not timed out: %v", streamCtx.Err())
	case <-time.After(time.Minute):
		t.Fatal("the refused stream's context outlived its answer by a minute")
	}
	assert.Zero(t, refuser.exported.Load())
}

// TestGRPCEarlyRefusalOfAMessageGRPCCannotReadIsNotCounted: the handler's early refusal
// still has gRPC read the message; when that fails (here, over max_recv_msg_size_mib) gRPC
// has answered with its own status, without RetryInfo, so the refusal the client never got
// is not counted, as the handler counts nothing for a message gRPC failed to read.
func TestGRPCEarlyRefusalOfAMessageGRPCCannotReadIsNotCounted(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
		c.Protocols.GRPC.Get().MaxRecvMsgSizeMiB = 1
	}, nil)
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	cc := grpcConn(t, r)

	// Without a deadline, so the handler refuses, not the tap.
	st := status.Convert(exportRaw(t.Context(), cc, "traces", make([]byte, 2<<20)))
	require.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	require.NotEqual(t, r.overRequests.Message, st.Message(), "gRPC's answer")
	_, ok := backpressure.RetryDelay(st)
	assert.False(t, ok)

	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	st = status.Convert(exportRaw(t.Context(), cc, "traces", body))
	require.Equal(t, r.overRequests.Message, st.Message())
	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{{
		Value: 1, Attributes: attribute.NewSet(
			attribute.String("outcome", "refused"), attribute.String("reason", "overloaded"),
			attribute.String("signal", "traces"), attribute.String("transport", "grpc")),
	}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
