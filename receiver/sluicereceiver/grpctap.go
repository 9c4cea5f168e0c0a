package sluicereceiver

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/collector/client"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// tapHeldLimit bounds the streams refused at the tap that grpc-go still holds. grpc-go
// (v1.85) does not cancel a stream's context when its InTapHandle refuses it, so each such
// refusal keeps its context and the timer of the client's deadline until that deadline
// passes: ~0.34 KB each (BenchmarkGRPCTapHeld) that no budget counts, for as long as the
// client's timeout. Past the limit (~5.5 MB of them), and for clients without a deadline
// (held until their connection closes) or with one over heldHorizon (64 s) away, requests
// go on to the handler, which refuses them before looking at them (refuseEarlyGRPC): more
// CPU, nothing held. So the tap takes all the refusals while refusals per second times the
// clients' timeout (plus up to a second: a stream is counted until its deadline's second is
// over) stay under the limit: ~2,700-3,300/s with the collector's 5 s, ~1,500-1,600/s with
// the SDKs' 10 s, ~530-550/s with 30 s.
var tapHeldLimit int64 = 16384

// unreadRefuser is what a signal implements to count a gRPC request refused before gRPC
// read its message.
type unreadRefuser interface {
	countUnreadGRPC(ctx context.Context, start time.Time, out backpressure.Response) error
}

// grpcTap refuses an Export as its headers arrive, before gRPC reads the message, when the
// gate has no room for it now and no room to wait (refuseUnread, the same decision the
// HTTP path makes before reading a body). The refusal is the handler's RESOURCE_EXHAUSTED
// with its RetryInfo, counted the same way, except that no items are counted: none were
// read. It runs on the connection's reading goroutine, under grpc-go's transport lock, so
// it only peeks at the gate and records the refusal (whose log is rate-limited) and never
// waits. Only streams with a deadline are refused there, as many as grpc-go may hold
// (tapHeldLimit); the handler refuses the others (refuseEarlyGRPC). It returns nil when the
// server's interceptors must see every request first: an authenticator or middlewares run
// before admission, so they cannot be bypassed.
func (r *otlpReceiver) grpcTap() tap.ServerInHandle {
	if !r.grpcRefusesUnread() {
		return nil
	}
	signals := map[string]unreadRefuser{}
	if r.traces != nil {
		signals["/"+tracesService.ServiceName+"/Export"] = r.traces
	}
	if r.metrics != nil {
		signals["/"+metricsService.ServiceName+"/Export"] = r.metrics
	}
	if r.logs != nil {
		signals["/"+logsService.ServiceName+"/Export"] = r.logs
	}
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		sig, ok := signals[info.FullMethodName]
		if !ok {
			return ctx, nil
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			return ctx, nil // grpc-go would hold it until the connection closes
		}
		start := time.Now()
		out, refused := r.refuseUnread(r.unreadTenant(info.Header))
		if !refused || !r.tapHeld.hold(start, deadline, tapHeldLimit) {
			return ctx, nil
		}
		return ctx, sig.countUnreadGRPC(ctx, start, out)
	}
}

// grpcRefusesUnread reports whether a gRPC request may be refused before the server's
// interceptors see it: not when an authenticator or middlewares must run before admission.
func (r *otlpReceiver) grpcRefusesUnread() bool {
	cfg := r.cfg.Protocols.GRPC.Get()
	return !cfg.Auth.HasValue() && len(cfg.Middlewares) == 0
}

// unreadTenant is the tenant of a gRPC request not read yet, from its headers, as the
// handler reads it once include_metadata has copied them into client metadata ("" without).
func (r *otlpReceiver) unreadTenant(header metadata.MD) string {
	if !r.cfg.Protocols.GRPC.Get().IncludeMetadata {
		return ""
	}
	return r.tenantOf(header)
}

// tenantOf reads the tenant key from request headers as the handler later reads it from
// client metadata (configgrpc's include_metadata copies the headers, :authority as host).
func (r *otlpReceiver) tenantOf(header metadata.MD) string {
	key := r.cfg.Admission.Tenant.MetadataKey
	if key == "" {
		return ""
	}
	v := header.Get(key)
	if len(v) == 0 && strings.EqualFold(key, client.MetadataHostName) && len(header.Get(client.MetadataHostName)) == 0 {
		v = header.Get(":authority")
	}
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// refuseEarlyGRPC takes the tap's decision again in the handler, for the requests the tap
// let through: those it could not hold (no deadline, one too far, or tapHeldLimit held
// already), and those that found the gate full only after their headers arrived. The
// refusal is the tap's, counted the same way (no items: the message is not looked at); the
// status gRPC writes ends the stream, and cancels its context, as for any answer. The
// message is still read with dec and freed (see exportHandler); if gRPC fails to read it,
// gRPC's own answer is the client's, and the refusal is neither sent nor counted.
func (s *signal[Req, Resp]) refuseEarlyGRPC(ctx context.Context, dec func(any) error) error {
	r := s.r
	if !r.grpcRefusesUnread() {
		return nil
	}
	start := time.Now()
	md, _ := metadata.FromIncomingContext(ctx)
	out, refused := r.refuseUnread(r.unreadTenant(md))
	if !refused {
		return nil
	}
	if err := discard(dec); err != nil {
		return err
	}
	return s.countUnreadGRPC(ctx, start, out)
}

// countUnreadGRPC counts a refusal made before the message was read and returns its error.
func (s *signal[Req, Resp]) countUnreadGRPC(ctx context.Context, start time.Time, out backpressure.Response) error {
	err := s.refuseOp(ctx, s.r.obsGRPC, protoEncoding.format, 0, out)
	s.r.finish(ctx, s.name, "grpc", start, out)
	return err
}
