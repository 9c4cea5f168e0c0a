package chlocal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"
)

func TestClusterShardsAndDistributedTables(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	c := StartClusterForTest(t, ClusterOptions{})
	require.Len(t, c.Endpoints(), 2)

	conns := make([]interface {
		Exec(context.Context, string, ...any) error
	}, 2)
	for i, ep := range c.Endpoints() {
		conn := openT(t, ctx, ep)
		conns[i] = conn
		// Every node sees the same cluster: two shards, each node's own port.
		var shards, port uint64
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(), sumIf(port, shard_num = ?) FROM system.clusters WHERE cluster = ?",
			i+1, c.Name()).Scan(&shards, &port))
		require.Equal(t, uint64(2), shards)
		require.Equal(t, uint64(mustPort(t, c.Nodes()[i].TCPAddr())), port)
		require.NoError(t, conn.Exec(ctx, "CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x"))
		require.NoError(t, conn.Exec(ctx, fmt.Sprintf("CREATE TABLE t_all AS t ENGINE = Distributed(%s, default, t, x)", c.Name())))
	}
	first := openT(t, ctx, c.Endpoints()[0])

	// Foreground: the rows are on their shards when the INSERT returns.
	fg := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 1, "async_insert": 0}))
	require.NoError(t, first.Exec(fg, "INSERT INTO t_all SELECT number FROM numbers(100)"))
	var onShard1, onShard2, total uint64
	second := openT(t, ctx, c.Endpoints()[1])
	require.NoError(t, first.QueryRow(ctx, "SELECT count() FROM t").Scan(&onShard1))
	require.NoError(t, second.QueryRow(ctx, "SELECT count() FROM t").Scan(&onShard2))
	require.Equal(t, uint64(50), onShard1, "sharding key x: even x on shard 1")
	require.Equal(t, uint64(50), onShard2)

	// Background: the node must deliver its queue by itself (chdb ships the
	// pool that does it at size 0, which the node config overrides).
	bg := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 0, "async_insert": 0}))
	require.NoError(t, first.Exec(bg, "INSERT INTO t_all SELECT number FROM numbers(100, 100)"))
	require.Eventually(t, func() bool {
		return second.QueryRow(ctx, "SELECT count() FROM t_all").Scan(&total) == nil && total == 200
	}, time.Minute, 20*time.Millisecond, "queued Distributed inserts were never delivered")
}

func TestClusterDefaultProfileSettings(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	c := StartClusterForTest(t, ClusterOptions{Nodes: 1, Name: "one", Settings: map[string]string{"distributed_foreground_insert": "1"}})
	var v string
	require.NoError(t, openT(t, ctx, c.Endpoints()[0]).QueryRow(ctx, "SELECT toString(getSetting('distributed_foreground_insert'))").Scan(&v))
	require.Equal(t, "true", v, "the default profile of the node config must apply to every connection")
}

// TestClusterNodeKilledAndRestarted: with a shard down, a foreground Distributed insert fails
// and the live shard keeps none of it (docs/scale-out.md relies on this); the node comes back
// on its ports and the same insert then lands whole.
func TestClusterNodeKilledAndRestarted(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	c := StartClusterForTest(t, ClusterOptions{})
	for _, ep := range c.Endpoints() {
		conn := openT(t, ctx, ep)
		require.NoError(t, conn.Exec(ctx, "CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x"))
		require.NoError(t, conn.Exec(ctx, fmt.Sprintf("CREATE TABLE t_all AS t ENGINE = Distributed(%s, default, t, x)", c.Name())))
	}
	first := openT(t, ctx, c.Endpoints()[0])
	fg := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1, "async_insert": 0}))
	require.NoError(t, c.Nodes()[1].Kill())
	require.Error(t, first.Exec(fg, "INSERT INTO t_all SELECT number FROM numbers(100)"))
	var local, total uint64
	require.NoError(t, first.QueryRow(ctx, "SELECT count() FROM t").Scan(&local))
	require.Zero(t, local, "the live shard kept part of a failed insert")

	require.NoError(t, c.Nodes()[1].Restart(ctx))
	require.NoError(t, first.Exec(fg, "INSERT INTO t_all SELECT number FROM numbers(100)"))
	require.NoError(t, first.QueryRow(ctx, "SELECT count() FROM t_all").Scan(&total))
	require.Equal(t, uint64(100), total)
}

// TestClusterWithZooKeeper: the nodes of a cluster given a ZooKeeper can create replicated
// tables there (without one, CREATE fails), which stay read-only (no interserver listener).
func TestClusterWithZooKeeper(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	zk := StartZooKeeperForTest(t)
	c := StartClusterForTest(t, ClusterOptions{Nodes: 1, ZooKeeper: zk.Addr()})
	conn := openT(t, ctx, c.Endpoints()[0])
	require.NoError(t, conn.Exec(ctx, "CREATE TABLE r (x UInt64) ENGINE = ReplicatedMergeTree('/t/{shard}/r', '{replica}') ORDER BY x"))
	var path string
	var readOnly uint8
	require.NoError(t, conn.QueryRow(ctx, "SELECT zookeeper_path, is_readonly FROM system.replicas WHERE table = 'r'").Scan(&path, &readOnly))
	require.Equal(t, "/t/1/r", path, "the node's macros name its shard")
	require.Equal(t, uint8(1), readOnly)
}

func TestZooKeeperMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := StartZooKeeper(context.Background(), t.TempDir())
	require.ErrorIs(t, err, ErrNoZooKeeper)
	require.ErrorContains(t, err, "apt-get install zookeeper")
}
