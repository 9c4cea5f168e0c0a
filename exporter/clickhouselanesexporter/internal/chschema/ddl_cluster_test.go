package chschema

import (
	"strings"
	"testing"
)

// TestPerNodeDiffersOnlyByOnCluster: what a cluster runs and what StatementsPerNode returns
// (run on every node by the cluster tests) are the same statements but for the one clause.
func TestPerNodeDiffersOnlyByOnCluster(t *testing.T) {
	replicated := goldenOptions(true)
	replicated.Cluster, replicated.Engine, replicated.EngineParams = "c", "ReplicatedMergeTree", "'/t/{shard}/{table}', '{replica}'"
	for name, o := range map[string]Options{"replicated": replicated, "distributed": distributedOptions()} {
		t.Run(name, func(t *testing.T) {
			clause := " ON CLUSTER " + Ident(o.Cluster)
			cluster, perNode := Statements(o), StatementsPerNode(o)
			if len(cluster) != len(perNode) {
				t.Fatalf("%d statements on the cluster, %d per node", len(cluster), len(perNode))
			}
			for i, s := range cluster {
				if n := strings.Count(s.SQL, clause); n != 1 {
					t.Errorf("%s: %d ON CLUSTER clauses, want 1:\n%s", s.Name, n, s.SQL)
				}
				p := perNode[i]
				if p.Name != s.Name || p.Signal != s.Signal || strings.Replace(s.SQL, clause, "", 1) != p.SQL {
					t.Errorf("%s differs per node by more than ON CLUSTER:\n%s\n---\n%s", s.Name, s.SQL, p.SQL)
				}
			}
		})
	}
}

// TestDistributedTablesOverLocalOnes: every table the exporter writes or Grafana reads gets a
// Distributed table of the configured name, over a _local table, with a sharding key taken
// from the row (a retry must reach the shards the first attempt reached).
func TestDistributedTablesOverLocalOnes(t *testing.T) {
	o := distributedOptions()
	byName := map[string]Statement{}
	for _, s := range Statements(o) {
		byName[s.Name] = s
	}
	tables := []string{DefaultTables.Logs, DefaultTables.Traces, DefaultTables.Traces + "_trace_id_ts", DefaultTables.Gauge,
		DefaultTables.Sum, DefaultTables.Histogram, DefaultTables.ExponentialHistogram, DefaultTables.Summary}
	for _, table := range tables {
		d, local := byName[table], byName[table+LocalSuffix]
		if !strings.Contains(d.SQL, "ENGINE = Distributed(`otel_cluster`, `otel`, "+Ident(table+LocalSuffix)+", cityHash64(") {
			t.Errorf("%s is not a Distributed table over %s_local:\n%s", table, table, d.SQL)
		}
		if !strings.Contains(local.SQL, "ENGINE = MergeTree()") || local.Signal != d.Signal {
			t.Errorf("%s_local is not its MergeTree table:\n%s", table, local.SQL)
		}
	}
	if len(byName) != 1+2*len(tables)+1 { // the database and the view besides
		t.Errorf("unexpected statements: %v", byName)
	}
	mv := byName[DefaultTables.Traces+"_trace_id_ts_mv"].SQL
	if !strings.Contains(mv, "TO `otel`.`otel_traces_trace_id_ts_local`") || !strings.Contains(mv, "FROM `otel`.`otel_traces_local`") {
		t.Errorf("the view must read and write the node's local tables:\n%s", mv)
	}
	// Without a cluster there is nothing to distribute over.
	o.Cluster = ""
	if s := Statements(o); len(s) != 10 || strings.Contains(render(o), "Distributed") {
		t.Errorf("distributed without cluster_name changed the DDL:\n%s", render(o))
	}
}
