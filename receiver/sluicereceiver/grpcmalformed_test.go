package sluicereceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// Field numbers of the OTLP messages the malformed inputs below are built from.
const (
	fieldResourceSpans = 1 // ExportTraceServiceRequest.resource_spans
	fieldResource      = 1 // ResourceSpans.resource
	fieldScopeSpans    = 2 // ResourceSpans.scope_spans
	fieldSpans         = 2 // ScopeSpans.spans
	fieldTraceID       = 1 // Span.trace_id
	fieldAttributes    = 1 // Resource.attributes
	fieldKey           = 1 // KeyValue.key
	fieldValue         = 2 // KeyValue.value
	fieldArrayValue    = 5 // AnyValue.array_value
	fieldValues        = 1 // ArrayValue.values
)

func embed(field protowire.Number, msg []byte) []byte {
	b := protowire.AppendTag(nil, field, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// spanWithTraceID is a traces request with one span whose trace id has n bytes.
func spanWithTraceID(n int) []byte {
	span := embed(fieldTraceID, make([]byte, n))
	return embed(fieldResourceSpans, embed(fieldScopeSpans, embed(fieldSpans, span)))
}

// nestedArrays is a traces request whose resource has one attribute holding arrays nested
// depth deep.
func nestedArrays(depth int) []byte {
	var v []byte // the innermost AnyValue, empty
	for range depth {
		v = embed(fieldArrayValue, embed(fieldValues, v))
	}
	kv := append(embed(fieldKey, []byte("k")), embed(fieldValue, v)...)
	return embed(fieldResourceSpans, embed(fieldResource, embed(fieldAttributes, kv)))
}

// malformedTraces are traces requests no decoder may accept, by name; valid is a valid
// request to cut short.
func malformedTraces(valid []byte) map[string][]byte {
	return map[string][]byte{
		"garbage":             []byte("this is not protobuf \xff\xff\xff\xff"),
		"truncated":           valid[:len(valid)-3],
		"5-byte trace id":     spanWithTraceID(5),
		"10,000-deep nesting": nestedArrays(10_000),
	}
}

var grpcExportMethods = map[string]string{
	"traces":  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"logs":    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}

// exportRaw sends body as the request message of a signal's Export, unchanged, as a client
// with its own encoder (or a broken one) would.
func exportRaw(ctx context.Context, cc *grpc.ClientConn, signal string, body []byte, opts ...grpc.CallOption) error {
	var reply receivedMessage
	opts = append(opts, grpc.ForceCodecV2(newRawCodec()))
	err := cc.Invoke(ctx, grpcExportMethods[signal], serializedMessage(body), &reply, opts...)
	reply.free()
	return err
}

func TestGRPCMalformedRequestsAreInvalidArgumentAndTheReceiverKeepsServing(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s, nil)
	cc := grpcConn(t, r)
	valid, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	reasons := map[string]string{
		"garbage":             "proto:",
		"truncated":           "truncated",
		"5-byte trace id":     "TraceID",
		"10,000-deep nesting": "recursion depth",
	}
	for name, body := range malformedTraces(valid) {
		t.Run(name, func(t *testing.T) {
			st := status.Convert(exportRaw(t.Context(), cc, "traces", body))
			assert.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
			assert.Contains(t, st.Message(), "malformed protobuf traces request")
			assert.Contains(t, st.Message(), reasons[name])
			_, hasHint := backpressure.RetryDelay(st)
			assert.False(t, hasHint, "bad input is not worth retrying")
			require.NoError(t, exportRaw(t.Context(), cc, "traces", valid), "still serving")
		})
	}
	for _, sig := range []string{"metrics", "logs"} {
		st := status.Convert(exportRaw(t.Context(), cc, sig, []byte("garbage \xff")))
		assert.Equal(t, codes.InvalidArgument, st.Code(), "%s: %s", sig, st.Message())
		assert.Contains(t, st.Message(), "malformed protobuf "+sig+" request")
	}
	calls, spans, _, _ := s.counts()
	assert.Equal(t, len(malformedTraces(valid)), calls, "only the valid requests reached the pipeline")
	assert.Equal(t, 3*calls, spans)
	assert.Zero(t, r.gate.Stats().Requests, "every admission released")
}
