package sluicereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

func (r *otlpReceiver) startGRPC(ctx context.Context, host component.Host) error {
	cfg := r.cfg.Protocols.GRPC.Get()
	srv, err := cfg.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings,
		configgrpc.WithGrpcServerOption(grpc.StatsHandler(sizeRecorder{})))
	if err != nil {
		return err
	}
	if r.traces != nil {
		ptraceotlp.RegisterGRPCServer(srv, &tracesGRPC{s: r.traces})
	}
	if r.metrics != nil {
		pmetricotlp.RegisterGRPCServer(srv, &metricsGRPC{s: r.metrics})
	}
	if r.logs != nil {
		plogotlp.RegisterGRPCServer(srv, &logsGRPC{s: r.logs})
	}
	ln, err := cfg.NetAddr.Listen(ctx)
	if err != nil {
		return err
	}
	r.grpcServer, r.grpcAddr = srv, ln.Addr()
	r.settings.Logger.Info("Starting GRPC server", zapEndpoint(ln.Addr().String()))
	r.serve(host, func() error { return srv.Serve(ln) }, grpc.ErrServerStopped)
	return nil
}

// exportGRPC is the gRPC path for every signal. gRPC has already decoded the message (bounded
// by max_recv_msg_size_mib); admission weighs it by its uncompressed size before the
// pipeline sees it.
func (s *signal[Req, Resp]) exportGRPC(ctx context.Context, req Req) (Resp, error) {
	start := time.Now()
	resp := s.newResponse()
	n, ok := payloadSize(ctx)
	if !ok {
		n = int64(s.size(req))
	}
	release, out := s.r.admit(ctx, s.name, "grpc", n)
	if out.IsError() {
		s.refuseOp(ctx, s.r.obsGRPC, "protobuf", s.items(req), out)
	} else {
		out = s.process(ctx, s.r.obsGRPC, "protobuf", req, resp, n)
		release()
	}
	s.r.finish(ctx, s.name, "grpc", start, out)
	if out.IsError() {
		return resp, out.GRPC.Err()
	}
	return resp, nil
}

// The pdata gRPC servers need a type per signal; each one only forwards to the shared path.
type (
	tracesGRPC struct {
		ptraceotlp.UnimplementedGRPCServer
		s *tracesSignal
	}
	metricsGRPC struct {
		pmetricotlp.UnimplementedGRPCServer
		s *metricsSignal
	}
	logsGRPC struct {
		plogotlp.UnimplementedGRPCServer
		s *logsSignal
	}
)

func (g tracesGRPC) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return g.s.exportGRPC(ctx, req)
}

func (g metricsGRPC) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	return g.s.exportGRPC(ctx, req)
}

func (g logsGRPC) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	return g.s.exportGRPC(ctx, req)
}
