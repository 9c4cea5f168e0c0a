package clickhouselanesexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestReplicatedClusterDDLOnEveryNode runs the ReplicatedMergeTree DDL of
// examples/clickhouse-cluster.yaml (per node: StatementsPerNode) on a two-shard cluster
// whose nodes share a ZooKeeper, so the replicated statements are executed, macros and
// ZooKeeper paths included, not only parsed. The embedded nodes cannot replicate (no
// interserver listener): their replicated tables stay read-only, which makes them a real
// source of TABLE_IS_READ_ONLY, and the exporter must answer it with a retryable 503 that
// keeps the rows. Skipped where ZooKeeper is not installed.
func TestReplicatedClusterDDLOnEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	t.Parallel()
	zk := chlocal.StartZooKeeperForTest(t)
	// By default an insert into a read-only replica waits in the server (Keeper retries, over
	// a minute here) and runs into insert_timeout with its outcome unknown; without the
	// retries it fails at once with TABLE_IS_READ_ONLY, the error this test is after.
	c := chlocal.StartClusterForTest(t, chlocal.ClusterOptions{Name: "otel_cluster", ZooKeeper: zk.Addr(),
		Settings: map[string]string{"insert_keeper_max_retries": "0"}})
	cfg := testConfig(t, c.Endpoints()[0])
	cfg.ClusterName, cfg.CreateSchema = c.Name(), false
	cfg.TableEngine = TableEngine{Name: "ReplicatedMergeTree", Params: "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"}
	cfg.Retry = RetryConfig{MaxAttempts: 1, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stmts := chschema.StatementsPerNode(cfg.schemaOptions(true))
	for _, ep := range c.Endpoints() {
		conn := openDB(t, ep)
		for _, s := range stmts {
			require.NoError(t, conn.Exec(ctx, s.SQL), "%s on %s:\n%s", s.Name, ep, s.SQL)
		}
		var replicated, readOnly uint64
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(), countIf(is_readonly) FROM system.replicas WHERE database = ?",
			cfg.Database).Scan(&replicated, &readOnly))
		require.Equal(t, uint64(len(stmts)-2), replicated, "every table but the view is replicated, on %s", ep)
		require.Equal(t, replicated, readOnly, "the embedded nodes' replicas are read-only")
	}

	exp, _ := startLogsExporter(t, cfg)
	err := exp.ConsumeLogs(ctx, tenantLogs("x", 3))
	requireRetryable(t, err, codes.Unavailable)
	require.ErrorContains(t, err, "TABLE_IS_READ_ONLY")
}
