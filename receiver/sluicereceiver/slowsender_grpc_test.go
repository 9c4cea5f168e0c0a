package sluicereceiver

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// stallingConn passes through the first budget bytes a client writes, then blocks every
// write until it is closed: a sender that stops in the middle of a message.
type stallingConn struct {
	net.Conn
	mu      sync.Mutex
	budget  int
	stalled chan struct{} // closed once the budget is spent
	closed  chan struct{}
	once    sync.Once
}

func (c *stallingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	n := min(len(p), c.budget)
	c.budget -= n
	c.mu.Unlock()
	written, err := c.Conn.Write(p[:n])
	if err != nil || written == len(p) {
		return written, err
	}
	c.once.Do(func() { close(c.stalled) })
	<-c.closed
	return written, net.ErrClosed
}

func (c *stallingConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Conn.Close()
}

// TestStalledGRPCSendersHoldNoSlot: gRPC receives a whole message before the handler runs,
// so twice max_inflight_requests clients stalled in the middle of a message hold no
// admission slot and a well-behaved client keeps being served.
func TestStalledGRPCSendersHoldNoSlot(t *testing.T) {
	const slots = 2
	r := startReceiver(t, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = slots })
	big := ptraceotlp.NewExportRequestFromTraces(testTraces(5000))
	ctx, cancel := context.WithCancel(context.Background())
	var stalls sync.WaitGroup
	for range 2 * slots {
		conn := &stallingConn{budget: 64 << 10, stalled: make(chan struct{}), closed: make(chan struct{})}
		cc, err := grpc.NewClient(r.grpcAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
				conn.Conn = c
				return conn, err
			}))
		require.NoError(t, err)
		stalls.Go(func() {
			_, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, big)
			assert.Error(t, err, "a stalled message is never answered")
		})
		<-conn.stalled
		t.Cleanup(func() { _ = conn.Close(); _ = cc.Close() }) // the conn first: cc.Close waits for its writer
	}
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	for range 3 * slots {
		_, err := client.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(testTraces(5)))
		require.NoError(t, err)
	}
	assert.Zero(t, r.gate.Stats().Requests, "the stalled senders hold no slot")
	cancel()
	stalls.Wait()
}
