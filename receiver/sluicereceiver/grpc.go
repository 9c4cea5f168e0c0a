package sluicereceiver

import (
	"context"
	"runtime"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func (r *otlpReceiver) startGRPC(ctx context.Context, host component.Host) error {
	cfg := r.cfg.Protocols.GRPC.Get()
	opts := []configgrpc.ToServerOption{
		configgrpc.WithGrpcServerOption(serverCodec()),
		configgrpc.WithGrpcServerOption(grpc.NumStreamWorkers(streamWorkers(r.cfg.Admission))),
	}
	if h := r.grpcTap(); h != nil {
		opts = append(opts, configgrpc.WithGrpcServerOption(grpc.InTapHandle(h)))
	}
	srv, err := cfg.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, opts...)
	if err != nil {
		return err
	}
	if r.traces != nil {
		srv.RegisterService(tracesService, r.traces)
	}
	if r.metrics != nil {
		srv.RegisterService(metricsService, r.metrics)
	}
	if r.logs != nil {
		srv.RegisterService(logsService, r.logs)
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

// streamWorkers is how many goroutines serve gRPC streams, reused from one request to the
// next: a stream handed to a fresh goroutine grows its stack again (several µs of a
// refusal's CPU under a flood). Admitted and waiting requests keep their worker while the
// pipeline works, so there are enough for all of them plus one per CPU for the refusals;
// when every worker is busy, gRPC starts a goroutine for the stream as it would without.
func streamWorkers(a AdmissionConfig) uint32 {
	n := runtime.GOMAXPROCS(0) + a.MaxWaitingRequests
	if a.MaxInflightRequests > 0 {
		n += a.MaxInflightRequests
	}
	return uint32(min(n, maxStreamWorkers))
}

// maxStreamWorkers bounds the idle goroutines kept for large admission limits.
const maxStreamWorkers = 1024

// emptyResponse is the answer to a fully accepted request: an ExportResponse with no
// partial_success serializes to nothing.
var emptyResponse any = serializedMessage(nil)

// exportGRPC is the gRPC path for every signal. gRPC has read (and decompressed) the
// message, bounded by max_recv_msg_size_mib, but not decoded it: admission weighs the bytes
// first, so a refusal costs no decoding.
func (s *signal[Req, Resp]) exportGRPC(ctx context.Context, req *receivedMessage) (any, error) {
	start := time.Now()
	resp, out := s.exportBytes(ctx, req)
	s.r.finish(ctx, s.name, "grpc", start, out)
	if out.IsError() {
		return nil, out.GRPC.Err()
	}
	if !out.Partial {
		return emptyResponse, nil
	}
	body, err := resp.MarshalProto()
	if err != nil {
		// Cannot happen for a pdata response; there are no 500s, so answer like any failure
		// after the pipeline.
		return nil, backpressure.Classify(err, s.r.cfg.Admission.RetryAfter).GRPC.Err()
	}
	return serializedMessage(body), nil
}

func (s *signal[Req, Resp]) exportBytes(ctx context.Context, raw *receivedMessage) (Resp, backpressure.Response) {
	var resp Resp
	n := raw.size()
	release, out := s.admitRequest(ctx, s.r.obsGRPC, "grpc", protoEncoding.format, n, raw.countItems)
	if out.IsError() {
		return resp, out
	}
	defer release()
	req, out := s.decode(protoEncoding, raw.bytes())
	// pdata copied what it needs: the bytes go back to the pool now rather than staying
	// held (next to their decoded copy) while the pipeline works.
	raw.free()
	if out.IsError() {
		return resp, out
	}
	resp = s.newResponse()
	return resp, s.process(ctx, s.r.obsGRPC, protoEncoding.format, req, resp, n)
}

func zapEndpoint(addr string) zap.Field { return zap.String("endpoint", addr) }
