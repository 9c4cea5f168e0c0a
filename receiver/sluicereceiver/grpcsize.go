package sluicereceiver

import (
	"context"
	"sync/atomic"

	"go.uber.org/zap"
	"google.golang.org/grpc/stats"
)

// sizeRecorder is a gRPC stats handler that notes each request's uncompressed message size,
// which gRPC knows after reading it and before calling the handler. The handler reads it
// from the context instead of walking the decoded request to measure it again.
type sizeRecorder struct{}

type sizeKey struct{}

func (sizeRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, sizeKey{}, new(atomic.Int64))
}

func (sizeRecorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if p, ok := s.(*stats.InPayload); ok {
		if h, ok := ctx.Value(sizeKey{}).(*atomic.Int64); ok {
			h.Store(int64(p.Length))
		}
	}
}

func (sizeRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (sizeRecorder) HandleConn(context.Context, stats.ConnStats) {}

// payloadSize returns the size sizeRecorder noted for this RPC.
func payloadSize(ctx context.Context) (int64, bool) {
	h, ok := ctx.Value(sizeKey{}).(*atomic.Int64)
	if !ok {
		return 0, false
	}
	n := h.Load()
	return n, n > 0
}

func zapEndpoint(addr string) zap.Field { return zap.String("endpoint", addr) }
