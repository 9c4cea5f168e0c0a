package sluicereceiver

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

const benchSpans = 100

// startCore runs the core otlp receiver with a nop consumer, for comparison.
func startCore(b *testing.B) (grpcAddr, httpAddr string) {
	grpcAddr, httpAddr = freeAddr(b), freeAddr(b)
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = grpcAddr
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = httpAddr
	rcv, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(component.MustNewType("otlp")), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	return grpcAddr, httpAddr
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func benchGRPC(b *testing.B, addr string) {
	cc := grpcConnAddr(b, addr)
	client := ptraceotlp.NewGRPCClient(cc)
	req := ptraceotlp.NewExportRequestFromTraces(testTraces(benchSpans))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Export(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func benchHTTP(b *testing.B, url string) {
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(benchSpans)).MarshalProto()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkAccept compares the accept path of sluice and the core otlp receiver, same client,
// same nop consumer, 100 spans per request, over loopback.
func BenchmarkAccept(b *testing.B) {
	sl := startReceiver(b, &sink{}, nil)
	coreGRPC, coreHTTP := startCore(b)
	b.Run("transport=grpc/receiver=sluice", func(b *testing.B) { benchGRPC(b, sl.grpcAddr.String()) })
	b.Run("transport=grpc/receiver=otlp", func(b *testing.B) { benchGRPC(b, coreGRPC) })
	b.Run("transport=http/receiver=sluice", func(b *testing.B) { benchHTTP(b, "http://"+sl.httpAddr.String()+"/v1/traces") })
	b.Run("transport=http/receiver=otlp", func(b *testing.B) { benchHTTP(b, "http://"+coreHTTP+"/v1/traces") })
}

// BenchmarkRefusalHTTP measures the server-side cost of a 429 (handler only, no network):
// the one slot is held, so every request is refused. It reports the p99 of single refusals.
func BenchmarkRefusalHTTP(b *testing.B) {
	r, h := handlerOnly(b, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "http", 0)
	defer hold()
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(benchSpans)).MarshalProto()
	durations := make([]time.Duration, 0, 1<<16)
	req := httptest.NewRequest(http.MethodPost, "/v1/traces", nil)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.ContentLength = int64(len(body))
	rd := bytes.NewReader(body)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.header)
		start := time.Now()
		h.ServeHTTP(w, req)
		if len(durations) < cap(durations) {
			durations = append(durations, time.Since(start))
		}
		if w.code != http.StatusTooManyRequests {
			b.Fatal(w.code)
		}
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkRefusalGRPC measures a RESOURCE_EXHAUSTED refusal end to end over loopback.
func BenchmarkRefusalGRPC(b *testing.B) {
	r := startReceiver(b, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	client := ptraceotlp.NewGRPCClient(grpcConnAddr(b, r.grpcAddr.String()))
	req := ptraceotlp.NewExportRequestFromTraces(testTraces(benchSpans))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Export(context.Background(), req); err == nil {
			b.Fatal("expected a refusal")
		}
	}
}

// discardWriter is a reusable ResponseWriter, so the benchmark measures the handler only.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkRefusalGRPCHandler measures the receiver's own share of a RESOURCE_EXHAUSTED
// refusal (no network, no gRPC): the bench request as gRPC hands it over, in 16 KiB
// frames, refused by a full gate, with the SDK recording the receiver's metrics.
func BenchmarkRefusalGRPCHandler(b *testing.B) {
	tt := componenttest.NewTelemetry()
	b.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	r, _ := handlerWith(b, metadatatest.NewSettings(tt), &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	body, frames := benchFrames(b)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		msg := &receivedMessage{data: slices.Clone(frames)}
		if _, err := r.traces.exportGRPC(ctx, msg); status.Code(err) != codes.ResourceExhausted {
			b.Fatal(err)
		}
		msg.free()
	}
}

// benchFrames is the bench request, and its pieces as gRPC receives it: 16 KiB frames.
func benchFrames(b *testing.B) ([]byte, mem.BufferSlice) {
	body := benchPayload(b)
	var frames mem.BufferSlice
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 16384)
		frames, rest = append(frames, mem.SliceBuffer(rest[:n])), rest[n:]
	}
	return body, frames
}

// fullGRPCGate is a gRPC receiver (not serving) with the SDK recording its metrics, whose
// only admission slot is held for the benchmark, so every request is refused.
func fullGRPCGate(b *testing.B) *otlpReceiver {
	tt := componenttest.NewTelemetry()
	b.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	r, _ := handlerWith(b, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Protocols.GRPC.GetOrInsertDefault()
		c.Admission.MaxInflightRequests = 1
	})
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	b.Cleanup(hold)
	return r
}

// BenchmarkRefusalGRPCExportHandler measures the receiver's share of a gRPC refusal made in
// the service's handler, as when the tap holds all the refused streams it may: the handler
// as gRPC calls it (no interceptors), its dec handing over the bench request in 16 KiB
// frames, with the SDK recording the receiver's metrics.
func BenchmarkRefusalGRPCExportHandler(b *testing.B) {
	r := fullGRPCGate(b)
	body, frames := benchFrames(b)
	dec := func(v any) error {
		v.(*receivedMessage).data = slices.Clone(frames)
		return nil
	}
	handler := tracesService.Methods[0].Handler
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := handler(r.traces, ctx, dec, nil); status.Code(err) != codes.ResourceExhausted {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefusalGRPCTap measures the receiver's share of a gRPC refusal made before the
// message is read (the tap), with the SDK recording the receiver's metrics. Its refusals
// all count as held for 10 s, so the tap's bound on held streams is lifted.
func BenchmarkRefusalGRPCTap(b *testing.B) {
	setTapHeldLimit(b, math.MaxInt64)
	r := fullGRPCGate(b)
	refuse := r.grpcTap()
	info := &tap.Info{FullMethodName: "/" + tracesService.ServiceName + "/Export", Header: metadata.MD{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refuse(ctx, info); status.Code(err) != codes.ResourceExhausted {
			b.Fatal(err)
		}
	}
}

// BenchmarkGRPCTapHeld measures what stays in memory, until the client's deadline, for each
// request refused at the tap (held-B/op): a real client's requests, with a 60 s deadline,
// and the heap in use after a GC before and after them.
func BenchmarkGRPCTapHeld(b *testing.B) {
	setTapHeldLimit(b, math.MaxInt64)
	r := startReceiver(b, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	cc := grpcConnAddr(b, r.grpcAddr.String())
	body := benchPayload(b)
	send := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := exportRaw(ctx, cc, "traces", body); status.Code(err) != codes.ResourceExhausted {
			b.Fatal(err)
		}
	}
	send()
	before := heapInUse()
	for b.Loop() {
		send()
	}
	if held := r.tapHeld.count(time.Now()); held != int64(b.N)+1 {
		b.Fatalf("%d held, want %d", held, b.N+1)
	}
	b.ReportMetric(float64(heapInUse()-before)/float64(b.N), "held-B/op")
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
