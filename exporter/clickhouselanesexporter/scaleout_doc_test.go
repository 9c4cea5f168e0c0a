package clickhouselanesexporter

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// clusterDDL is the DDL the exporter runs with examples/clickhouse-cluster.yaml's schema
// settings on a ClickHouse ≥ 26.2 (text indexes).
func clusterDDL() []chschema.Statement {
	cfg := createDefaultConfig().(*Config)
	cfg.ClusterName = "otel_cluster"
	cfg.TableEngine = TableEngine{Name: "ReplicatedMergeTree", Params: "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"}
	cfg.TTL = 720 * time.Hour
	return chschema.Statements(cfg.schemaOptions(true))
}

// distributedDDL is what docs/scale-out.md tells operators to create themselves for reads
// across shards; the exporter never creates it.
var distributedDDL = []string{
	"CREATE TABLE IF NOT EXISTS `otel`.`otel_traces_all` ON CLUSTER `otel_cluster` AS `otel`.`otel_traces`\n" +
		"ENGINE = Distributed(`otel_cluster`, `otel`, `otel_traces`, cityHash64(TraceId))",
	"CREATE TABLE IF NOT EXISTS `otel`.`otel_logs_all` ON CLUSTER `otel_cluster` AS `otel`.`otel_logs`\n" +
		"ENGINE = Distributed(`otel_cluster`, `otel`, `otel_logs`, rand())",
}

// TestScaleOutGuideShowsTheClusterDDL keeps docs/scale-out.md true: the statements it quotes
// for cluster_name + ReplicatedMergeTree are the ones the exporter runs.
func TestScaleOutGuideShowsTheClusterDDL(t *testing.T) {
	raw, err := os.ReadFile("../../docs/scale-out.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	if os.Getenv("SLUICE_PRINT_DDL") != "" {
		for _, s := range clusterDDL() {
			t.Logf("\n%s;", s.SQL)
		}
	}
	quoted := map[string]bool{"database": true, "otel_traces": true, "otel_traces_trace_id_ts_mv": true}
	for _, s := range clusterDDL() {
		if quoted[s.Name] && !strings.Contains(doc, s.SQL+";") {
			t.Errorf("docs/scale-out.md does not quote the DDL of %s as the exporter renders it:\n%s;", s.Name, s.SQL)
		}
	}
	for _, s := range distributedDDL {
		if !strings.Contains(doc, s+";") {
			t.Errorf("docs/scale-out.md does not show:\n%s;", s)
		}
	}
}

// TestClusterDDLParsesOnTheServer runs every cluster statement, and the Distributed tables of
// the guide, through the real server's parser (formatQuery). The embedded server has no
// Keeper and no clusters, so it cannot execute ON CLUSTER or ReplicatedMergeTree; parsing is
// as far as it goes (the plain MergeTree DDL is executed by the lifecycle tests).
func TestClusterDDLParsesOnTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	conn := openDB(t, chlocal.ForTest(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stmts := distributedDDL
	for _, s := range clusterDDL() {
		stmts = append(stmts, s.SQL)
	}
	for _, sql := range stmts {
		var formatted string
		if err := conn.QueryRow(ctx, "SELECT formatQuery(?)", sql).Scan(&formatted); err != nil {
			t.Errorf("the server does not parse:\n%s\n%v", sql, err)
			continue
		}
		for _, want := range []string{"ON CLUSTER otel_cluster"} {
			if !strings.Contains(formatted, want) {
				t.Errorf("formatted statement lost %q:\n%s", want, formatted)
			}
		}
	}
}
