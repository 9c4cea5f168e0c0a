package clickhouselanesexporter

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestShardDownWhileWriting kills one shard of a two-shard cluster while four clients
// stream logs through the Distributed tables of the other node, then restarts it. What
// docs/scale-out.md says about it is what this test checks: the gateway answers 503 with a
// retry hint while the shard is down (the insert fails as a whole; the breaker opens), the
// clients' retries land once it is back, and every acknowledged row is there exactly once.
func TestShardDownWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	t.Parallel()
	for _, mode := range []string{"killed", "frozen"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			shardDownWhileWriting(t, mode == "frozen")
		})
	}
}

func shardDownWhileWriting(t *testing.T, freeze bool) {
	c, cfg := distributedCluster(t)
	cfg.InsertTimeout = 10 * time.Second
	if freeze {
		cfg.InsertTimeout = 2 * time.Second // a frozen shard answers nothing: this ends the wait
	}
	cfg.DialTimeout = time.Second
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 50 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 500 * time.Millisecond}
	exp, tel := startLogsExporter(t, cfg)
	var firstRefusal atomic.Pointer[string]
	consume := func(ctx context.Context, ld plog.Logs) error {
		err := exp.ConsumeLogs(ctx, ld)
		if err != nil {
			msg := err.Error()
			firstRefusal.CompareAndSwap(nil, &msg)
		}
		return err
	}

	const clients, requests, rowsPer = 4, 25, 20
	var acknowledged atomic.Int64
	refused := make(chan struct{}, 1)
	halfway := make(chan struct{})
	var halfwayOnce sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			for r := range requests {
				ld := plog.NewLogs()
				lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
				for i := range rowsPer {
					rec := lr.AppendEmpty()
					rec.SetTimestamp(1_764_000_000_000_000_000)
					rec.Body().SetStr(fmt.Sprintf("client %d request %d row %d", cl, r, i))
				}
				if err := sendUntilAccepted(ctx, consume, ld, refused); err != nil {
					t.Errorf("client %d: %v", cl, err)
					return
				}
				if acknowledged.Add(rowsPer) >= clients*requests*rowsPer/3 {
					halfwayOnce.Do(func() { close(halfway) })
				}
			}
		})
	}

	select {
	case <-halfway:
	case <-ctx.Done():
		t.Fatal("clients never got a third of the way")
	}
	shard2 := c.Nodes()[1]
	if freeze {
		require.NoError(t, shard2.Pause())
	} else {
		require.NoError(t, shard2.Kill())
	}
	require.Eventually(t, func() bool { return breakerOpened(tel) }, time.Minute, 10*time.Millisecond,
		"the lane never noticed the shard was down")
	if freeze {
		require.NoError(t, shard2.Resume())
	} else {
		select {
		case <-refused:
		case <-ctx.Done():
			t.Fatal("no client was refused while a shard was down")
		}
		// Reads through the Distributed tables fail rather than answer from half the data.
		var n uint64
		require.Error(t, openDB(t, c.Endpoints()[0]).QueryRow(ctx, "SELECT count() FROM "+
			quotedTable(cfg.Database, cfg.LogsTableName)).Scan(&n), "a read with a shard down answered %d rows", n)
		require.NoError(t, shard2.Restart(context.Background()))
	}
	wg.Wait()
	if msg := firstRefusal.Load(); msg != nil {
		t.Logf("while shard 2 was down the gateway answered: %s", *msg)
	} else {
		t.Log("no request was refused: callers waited while the lane settled the interrupted insert")
	}

	var count, distinct uint64
	q := fmt.Sprintf("SELECT count(), uniqExact(Body) FROM %s", quotedTable(cfg.Database, cfg.LogsTableName))
	require.NoError(t, openDB(t, c.Endpoints()[1]).QueryRow(clickhouse.Context(ctx), q).Scan(&count, &distinct))
	want := uint64(clients * requests * rowsPer)
	require.Equal(t, want, uint64(acknowledged.Load()))
	t.Logf("acknowledged %d rows; the cluster has %d rows, %d distinct", want, count, distinct)
	require.Equal(t, want, distinct, "acknowledged rows lost")
	require.Equal(t, want, count, "rows duplicated")
}
