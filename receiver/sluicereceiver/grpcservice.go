package sluicereceiver

import (
	"context"

	"google.golang.org/grpc"
)

// The three OTLP gRPC services, served with raw request bytes (see rawCodec) instead of
// the generated pdata servers, which decode every message before any handler runs.
var (
	tracesService  = otlpService("opentelemetry.proto.collector.trace.v1.TraceService", "trace/v1/trace_service.proto")
	metricsService = otlpService("opentelemetry.proto.collector.metrics.v1.MetricsService", "metrics/v1/metrics_service.proto")
	logsService    = otlpService("opentelemetry.proto.collector.logs.v1.LogsService", "logs/v1/logs_service.proto")
)

// rawExporter is what a signal implements to serve its service's Export method.
type rawExporter interface {
	// refuseEarlyGRPC answers a request owed a refusal before its message is looked at
	// (dec only reads it, to free it), or returns nil.
	refuseEarlyGRPC(ctx context.Context, dec func(any) error) error
	exportGRPC(ctx context.Context, req *receivedMessage) (any, error)
}

func otlpService(name, file string) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: name,
		HandlerType: (*rawExporter)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportHandler("/" + name + "/Export")}},
		Metadata:    "opentelemetry/proto/collector/" + file,
	}
}

// exportHandler receives the request's bytes and runs the server's interceptors (client
// metadata, auth, middlewares) around the signal's handler, as generated code would. The
// bytes are freed when the call returns, whoever answered it.
//
// A request the gate would surely refuse (the tap's decision, for those the tap let
// through) is refused first, and its message is neither joined nor counted nor seen by
// the interceptors. gRPC still reads it, into buffers freed at once: grpc-go (v1.85)
// returns a stream's received frames to its pool only as they are read, so refusing
// without reading measured half as much CPU again (~44 KB of fresh buffers per refusal,
// and their GC) as reading did.
func exportHandler(fullMethod string) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		exp := srv.(rawExporter)
		if err := exp.refuseEarlyGRPC(ctx, dec); err != nil {
			return nil, err
		}
		req := &receivedMessage{}
		if err := dec(req); err != nil {
			// gRPC has already answered (corrupt compression, over max_recv_msg_size_mib).
			return nil, err
		}
		defer req.free()
		if interceptor == nil {
			return exp.exportGRPC(ctx, req)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}
		return interceptor(ctx, req, info, func(ctx context.Context, r any) (any, error) {
			return exp.exportGRPC(ctx, r.(*receivedMessage))
		})
	}
}

// discard reads a refused request's message and frees it. When reading fails, gRPC has
// already answered with that failure (corrupt compression, over max_recv_msg_size_mib,
// the client gone), and its error is returned.
func discard(dec func(any) error) error {
	req := &receivedMessage{}
	if err := dec(req); err != nil {
		return err
	}
	req.free()
	return nil
}
