package sluicereceiver

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/loadgen"
)

// Environment of the sender process that BenchmarkGRPCServerCPU starts.
const (
	senderAddrEnv  = "SLUICE_BENCH_SENDER_ADDR"
	senderCountEnv = "SLUICE_BENCH_SENDER_REQUESTS"
	senderWant     = "SLUICE_BENCH_SENDER_WANT" // the gRPC code every answer must have
	benchSenders   = 4                          // connections
	// senderStreamsEnv, set by whoever runs the benchmark, is how many goroutines send on each
	// connection (default 1); a flood has many requests in flight on one connection.
	senderStreamsEnv = "SLUICE_BENCH_SENDER_STREAMS"
)

// BenchmarkGRPCServerCPU measures what one 100-span gRPC request (benchPayload) costs the receiver alone:
// the requests come from another process (this test binary, as TestGRPCSenderProcess), so
// the CPU and allocations counted are the server's. cpu-ns/op is the process's user+system
// CPU per request; allocs/op and B/op are the server's too. outcome=refused holds the only
// admission slot, so every request is refused (RESOURCE_EXHAUSTED): at=tap by the tap,
// before the stream is handled (the tap's bound lifted: each refused stream stays held for
// the sender's 10 s deadline); at=handler with the tap's bound exhausted, as in a flood
// from clients whose deadlines are longer than the tap can hold. outcome=accepted
// goes to a pipeline that takes everything.
func BenchmarkGRPCServerCPU(b *testing.B) {
	refused := func(b *testing.B, heldLimit int64) {
		setTapHeldLimit(b, heldLimit)
		r := startReceiver(b, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
		hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
		defer hold()
		benchServerCPU(b, r.grpcAddr.String(), codes.ResourceExhausted)
	}
	b.Run("outcome=refused/at=tap", func(b *testing.B) { refused(b, math.MaxInt64) })
	b.Run("outcome=refused/at=handler", func(b *testing.B) { refused(b, 0) })
	b.Run("outcome=accepted", func(b *testing.B) {
		benchServerCPU(b, startReceiver(b, &sink{}, nil).grpcAddr.String(), codes.OK)
	})
	// The floor: a bare grpc-go server (no interceptors, no stats handler) whose Export
	// answers the same refusal without looking at the request.
	b.Run("outcome=refused/server=bare-grpc", func(b *testing.B) {
		benchServerCPU(b, startBareRefuser(b), codes.ResourceExhausted)
	})
}

type bareRefuser struct{ err error }

func (bareRefuser) refuseEarlyGRPC(context.Context, func(any) error) error { return nil }

func (s bareRefuser) exportGRPC(context.Context, *receivedMessage) (any, error) { return nil, s.err }

func startBareRefuser(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer(serverCodec())
	refusal := backpressure.Refused(backpressure.ReasonOverloaded, "overloaded", time.Second)
	srv.RegisterService(tracesService, bareRefuser{err: refusal.GRPC.Err()})
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func benchServerCPU(b *testing.B, addr string, want codes.Code) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestGRPCSenderProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), senderAddrEnv+"="+addr,
		senderCountEnv+"="+strconv.Itoa(b.N), senderWant+"="+strconv.Itoa(int(want)))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	expectLine(b, lines, "ready") // connected and warmed up
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime(b)
	fmt.Fprintln(stdin, "go")
	expectLine(b, lines, "done")
	used := cpuTime(b) - before
	b.StopTimer()
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
}

func expectLine(b *testing.B, lines *bufio.Scanner, want string) {
	b.Helper()
	if !lines.Scan() || lines.Text() != want {
		b.Fatalf("sender said %q (%v), want %q", lines.Text(), lines.Err(), want)
	}
}

// cpuTime is this process's user and system CPU so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPayload is the load generator's 100-span request, 9 attributes per span, as in the
// overload runs of issue 12.
func benchPayload(t testing.TB) []byte {
	tpl, err := loadgen.NewTemplate(loadgen.Traces, "", loadgen.Shape{ItemsPerRequest: benchSpans, Attributes: 8})
	if err != nil {
		t.Fatal(err)
	}
	return tpl.Render(nil, 1)
}

// TestGRPCSenderProcess is the sender of BenchmarkGRPCServerCPU; run by itself it does
// nothing. It sends a pre-serialized 100-span request as raw bytes, so its own cost is low
// and none of it is counted in the server's process.
func TestGRPCSenderProcess(t *testing.T) {
	addr := os.Getenv(senderAddrEnv)
	if addr == "" {
		t.Skip("the sender process of BenchmarkGRPCServerCPU")
	}
	n, _ := strconv.Atoi(os.Getenv(senderCountEnv))
	want, _ := strconv.Atoi(os.Getenv(senderWant))
	body := benchPayload(t)
	conns := make([]*grpc.ClientConn, benchSenders)
	for i := range conns {
		conns[i] = grpcConnAddr(t, addr)
		if code := status.Code(exportTimed(t.Context(), conns[i], body)); code != codes.Code(want) {
			t.Fatalf("warm-up answered %v, want %v", code, codes.Code(want))
		}
	}
	fmt.Println("ready")
	if !bufio.NewScanner(os.Stdin).Scan() {
		t.Fatal("no go")
	}
	streams, _ := strconv.Atoi(os.Getenv(senderStreamsEnv))
	var next, wrong atomic.Int64
	var wg sync.WaitGroup
	for _, cc := range conns {
		for range max(streams, 1) {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if status.Code(exportTimed(t.Context(), cc, body)) != codes.Code(want) {
						wrong.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	fmt.Println("done")
	if wrong.Load() > 0 {
		t.Fatalf("%d answers were not %v", wrong.Load(), codes.Code(want))
	}
}

// exportTimed sends with the deadline real clients set (the OTel SDKs' 10 s).
func exportTimed(ctx context.Context, cc *grpc.ClientConn, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return exportRaw(ctx, cc, "traces", body)
}
