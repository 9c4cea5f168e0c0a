package chinsert

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// answerHolder is a TCP proxy to a server that, once hold is called, stops passing the
// server's bytes to the client: a ClickHouse that took the data and never answers.
type answerHolder struct {
	addr string
	once sync.Once
	held chan struct{}
}

func holdAnswers(t *testing.T, target string) *answerHolder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &answerHolder{addr: ln.Addr().String(), held: make(chan struct{})}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			go func() { _, _ = io.Copy(server, client) }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := server.Read(buf)
					select {
					case <-h.held:
						return // swallow the answer, keep the connection open
					default:
					}
					if n > 0 {
						_, _ = client.Write(buf[:n])
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return h
}

func (h *answerHolder) hold() { h.once.Do(func() { close(h.held) }) }

// TestInsertStreamStepBoundsAServerThatStopsAnswering: a server that takes a stream's blocks
// and never answers costs one step bound per block sent, not the connection's read timeout:
// the stalled step closes the connection, and the outcome is unknown (the rows may be in).
func TestInsertStreamStepBoundsAServerThatStopsAnswering(t *testing.T) {
	ctx := context.Background()
	endpoint := chlocal.ForTest(t)
	direct := New(Options{Addrs: []string{strings.TrimPrefix(endpoint, "tcp://")}, DialTimeout: 10 * time.Second})
	t.Cleanup(func() { _ = direct.Close() })
	if err := direct.Exec(ctx, "CREATE TABLE IF NOT EXISTS chinsert_stall (n UInt64) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	proxy := holdAnswers(t, strings.TrimPrefix(endpoint, "tcp://"))
	const readTimeout = time.Minute
	in := New(Options{Addrs: []string{proxy.addr}, DialTimeout: 10 * time.Second, ReadTimeout: readTimeout, Deduplicate: true})
	t.Cleanup(func() { _ = in.Close() })

	var c proto.ColUInt64
	c.Append(1)
	blocks := 1
	next := func() (bool, error) {
		if blocks == 2 {
			proxy.hold() // both blocks sent: the answer never comes
			return false, nil
		}
		blocks++
		c.Reset()
		c.Append(uint64(blocks))
		return true, nil
	}
	start := time.Now()
	err := in.InsertStream(ctx, "INSERT INTO chinsert_stall (n) VALUES", proto.Input{{Name: "n", Data: &c}}, "stall", 500*time.Millisecond, next)
	took := time.Since(start)
	if !OutcomeUnknown(err) || !strings.Contains(err.Error(), "insert_timeout") {
		t.Fatalf("want an unknown outcome naming insert_timeout, got %v", err)
	}
	if took >= readTimeout/2 {
		t.Fatalf("returned after %s: the stalled answer waited for the read timeout (%s)", took, readTimeout)
	}
}
