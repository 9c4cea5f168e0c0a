package clickhouselanesexporter

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestOnWALDrainRecoversAfterClickHouseFreezes: ClickHouse is frozen (SIGSTOP: connections
// stay open, nothing is answered) while the lane drains its log, long enough for inserts to
// time out and the breaker to open, then resumed. The rows acknowledged before and during
// the freeze all land, exactly once: a drain that hung on the frozen connection would leave
// them on disk forever and the lane's lag growing. On failure the goroutines are dumped, to
// show where the drain waits.
//
// The embedded ClickHouse sometimes exits right after the resume (about 1 run in 5 under
// -race: "The server is shutting down due to a fatal error", then connection refused); it is
// restarted on its data then, and the assertion is the same: the log still holds every row
// not committed, and the drain, which keeps retrying, writes them once.
func TestOnWALDrainRecoversAfterClickHouseFreezes(t *testing.T) {
	srv := chlocal.StartForTest(t)
	cfg := walTestConfig(t, srv.Endpoint())
	cfg.InsertTimeout, cfg.ReadTimeout = 3*time.Second, time.Second
	exp, tel := startLogsExporter(t, cfg)

	var acknowledged atomic.Int64
	frozen, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // a steady stream, so a batch is being inserted when the freeze comes
		for r := 0; ; r++ {
			select {
			case <-stop:
				return
			default:
			}
			if r == 50 {
				<-frozen
			}
			if err := exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("request ", r), 20)); err != nil {
				t.Errorf("request %d: %v", r, err)
				return
			}
			acknowledged.Add(20)
		}
	})
	require.Eventually(t, func() bool { return acknowledged.Load() >= 50*20 }, time.Minute, time.Millisecond)
	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	close(frozen)
	// Failed inserts (each insert_timeout or a handshake's dial_timeout long) open the
	// breaker: the lane met the freeze.
	require.Eventually(t, func() bool { return breakerOpened(tel) }, time.Minute, 10*time.Millisecond)
	require.NoError(t, srv.Resume())
	close(stop)
	wg.Wait()

	want := uint64(acknowledged.Load())
	if err := landedAfterResume(t, srv, cfg, want, time.Minute); err != nil {
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatalf("the %d acknowledged rows did not all land within a minute of the resume: %v", want, err)
	}
	count, distinct := countAndDistinct(t, srv.Endpoint(), cfg)
	require.Equal(t, [2]uint64{want, want}, [2]uint64{count, distinct}, "count and distinct rows")
}

// landedAfterResume polls until the logs table holds want rows, restarting srv if its
// process exits meanwhile; it returns the last count's error or shortfall after within.
func landedAfterResume(t *testing.T, srv *chlocal.Server, cfg *Config, want uint64, within time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-srv.Done():
			t.Logf("the embedded ClickHouse exited after the resume; restarting it")
			if err := srv.Restart(context.Background()); err != nil {
				return fmt.Errorf("restart ClickHouse: %w", err)
			}
		default:
		}
		var c uint64
		if c, err = tryCount(srv.Endpoint(), cfg); err == nil && c >= want {
			return nil
		} else if err == nil {
			err = fmt.Errorf("%d rows of %d", c, want)
		}
		time.Sleep(50 * time.Millisecond) // polling ClickHouse: no signal to wait on
	}
	return err
}

func tryCount(endpoint string, cfg *Config) (uint64, error) {
	conn, err := chlocal.Open(context.Background(), endpoint)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var c uint64
	err = conn.QueryRow(context.Background(), fmt.Sprintf("SELECT count() FROM %s", quotedTable(cfg.Database, cfg.LogsTableName))).Scan(&c)
	return c, err
}
