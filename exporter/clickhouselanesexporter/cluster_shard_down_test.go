package clickhouselanesexporter

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

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

	refused := make(chan struct{}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	wait := streamLogs(t, ctx, func(ctx context.Context, _ int, ld plog.Logs) error {
		return sendUntilAccepted(ctx, consume, ld, refused)
	})
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
	acknowledged := wait()
	if msg := firstRefusal.Load(); msg != nil {
		t.Logf("while shard 2 was down the gateway answered: %s", *msg)
	} else {
		t.Log("no request was refused: callers waited while the lane settled the interrupted insert")
	}

	count, distinct := countLogs(t, ctx, c.Endpoints()[1], cfg)
	want := uint64(streamClients * streamRequests * streamRowsPer)
	require.Equal(t, want, uint64(acknowledged))
	t.Logf("acknowledged %d rows; the cluster has %d rows, %d distinct", want, count, distinct)
	require.Equal(t, want, distinct, "acknowledged rows lost")
	require.Equal(t, want, count, "rows duplicated")
}
