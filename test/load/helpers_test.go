package load

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
	"github.com/sluicehq/sluice/internal/loadgen"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// clickhouse-go and net/http keep pooled connections' goroutines a moment after Close.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

func collectorBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SLUICE_COLLECTOR_BIN")
	if bin == "" {
		t.Skip("SLUICE_COLLECTOR_BIN is not set; run `make load-test`")
	}
	return bin
}

// startCollector starts bin with config and stops it at cleanup, printing its output if the
// test failed.
func startCollector(t *testing.T, bin, name, config string, ports loadbench.Ports) *loadbench.Collector {
	t.Helper()
	c, err := loadbench.StartCollector(bin, name, t.TempDir(), config, ports.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, c.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitListening(ctx, ports.GRPCAddr(), fmt.Sprintf("127.0.0.1:%d", ports.HTTP)); err != nil {
		t.Fatal(err)
	}
	return c
}

func newPorts(t *testing.T) loadbench.Ports {
	t.Helper()
	p, err := loadbench.NewPorts()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openCH(t *testing.T, endpoint string) driver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := chlocal.Open(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// assertLandedExactly waits until the acknowledged items are in ClickHouse and checks
// there is nothing more: no duplicates, nothing unacknowledged counted twice.
func assertLandedExactly(t *testing.T, conn driver.Conn, database string, signal loadgen.Signal, res *loadgen.Result) {
	t.Helper()
	if res.ItemsAcked == 0 {
		t.Fatalf("nothing was acknowledged: %+v", res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	landed, _, err := loadbench.WaitLanded(ctx, conn, database, signal, uint64(res.ItemsAcked), time.Minute)
	if err != nil {
		t.Errorf("waiting for %d acknowledged items: %v", res.ItemsAcked, err)
	}
	if landed.Duplicates() != 0 {
		t.Errorf("%d duplicate rows (%d rows, %d unique)", landed.Duplicates(), landed.Rows, landed.Unique)
	}
	// Items given up on may have landed (a timeout after commit); acknowledged ones must have.
	if landed.Unique < uint64(res.ItemsAcked) || landed.Unique > uint64(res.ItemsAcked+res.ItemsFailed) {
		t.Errorf("landed %d unique items, acknowledged %d (failed %d)", landed.Unique, res.ItemsAcked, res.ItemsFailed)
	}
}

// flushInterval keeps on_insert requests short: the tests have few clients in flight, so a
// lane would otherwise wait its default flush_interval (1s) for every batch.
const flushInterval = 50 * time.Millisecond

func fastRetry() loadgen.RetryPolicy {
	r := loadgen.DefaultRetry()
	r.InitialInterval = 100 * time.Millisecond
	r.MaxInterval = 2 * time.Second
	r.MaxElapsedTime = 0
	return r
}

// sampledRun is a load running in the background whose progress a test follows to time a
// fault: samples carries them (dropped when nobody reads), done is closed when the load
// ends, and then res and err hold its result.
type sampledRun struct {
	samples chan loadgen.Sample
	done    chan struct{}
	res     *loadgen.Result
	err     error
}

// startSampled starts cfg, sampling every interval.
func startSampled(ctx context.Context, cfg loadgen.Config, every time.Duration) *sampledRun {
	r := &sampledRun{samples: make(chan loadgen.Sample, 1024), done: make(chan struct{})}
	cfg.SampleEvery = every
	cfg.OnSample = func(s loadgen.Sample) {
		select {
		case r.samples <- s:
		default:
		}
	}
	go func() {
		defer close(r.done)
		r.res, r.err = loadgen.Run(ctx, cfg)
	}()
	return r
}
