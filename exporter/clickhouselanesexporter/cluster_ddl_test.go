package clickhouselanesexporter

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestClusterDDLRunsOnEveryNode executes the DDL the exporter renders for cluster_name on
// every node of a real two-shard cluster: StatementsPerNode, which differs from what the
// exporter runs only by the ON CLUSTER clause (chschema checks that). The embedded nodes
// cannot run ON CLUSTER itself (no Keeper: Code 392), nor create writable
// ReplicatedMergeTree tables, so the engine is MergeTree: a sharded, unreplicated cluster.
func TestClusterDDLRunsOnEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	t.Parallel()
	c := chlocal.StartClusterForTest(t, chlocal.ClusterOptions{Name: "otel_cluster"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, distributed := range []bool{false, true} {
		cfg := createDefaultConfig().(*Config)
		cfg.ClusterName, cfg.TTL = c.Name(), 720*time.Hour
		cfg.Database = map[bool]string{false: "otel_sharded", true: "otel_distributed"}[distributed]
		opts := cfg.schemaOptions(true)
		opts.Distributed = distributed
		stmts := chschema.StatementsPerNode(opts)
		for _, ep := range c.Endpoints() {
			conn := openDB(t, ep)
			for _, s := range stmts {
				require.NoError(t, conn.Exec(ctx, s.SQL), "%s on %s:\n%s", s.Name, ep, s.SQL)
			}
			// Every statement made its object, with the engine it names.
			for _, s := range stmts[1:] {
				var engine string
				require.NoError(t, conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?",
					cfg.Database, s.Name).Scan(&engine), "%s on %s", s.Name, ep)
				want := "MergeTree"
				switch {
				case s.Name == cfg.TracesTableName+"_trace_id_ts_mv":
					want = "MaterializedView"
				case distributed && !strings.HasSuffix(s.Name, chschema.LocalSuffix):
					want = "Distributed"
				}
				require.Equal(t, want, engine, "%s on %s", s.Name, ep)
			}
		}
	}
}

// TestScaleOutGuideShowsTheDistributedDDL keeps the distributed_tables section of
// docs/scale-out.md true: the Distributed statement it quotes is the one the exporter runs.
func TestScaleOutGuideShowsTheDistributedDDL(t *testing.T) {
	raw, err := os.ReadFile("../../docs/scale-out.md")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	cfg.ClusterName, cfg.DistributedTables = "otel_cluster", true
	for _, s := range chschema.Statements(cfg.schemaOptions(true)) {
		switch s.Name {
		case cfg.TracesTableName:
			require.Contains(t, string(raw), s.SQL+";", "the guide must quote the Distributed table as rendered")
		case cfg.TracesTableName + chschema.LocalSuffix:
			head, _, _ := strings.Cut(s.SQL, "\n")
			require.Contains(t, string(raw), head+"\n", "the guide must quote the local table's first line as rendered")
		}
	}
}
