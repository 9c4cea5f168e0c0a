package clickhouselanesexporter

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// BenchmarkClusterWrite compares the two ways docs/scale-out.md offers to write logs to a
// two-shard cluster: one exporter through the Distributed tables of one node
// (distributed_tables), or one exporter per shard straight into its local tables, requests
// alternating between them (what two gateways, each pointed at its shard, do). Both run in
// this one process, with both nodes on the same machine, so the numbers compare the two
// paths' cost, not a real cluster's capacity.
//
//	go test -run '^$' -bench BenchmarkClusterWrite -benchtime 200x ./exporter/clickhouselanesexporter
func BenchmarkClusterWrite(b *testing.B) {
	c := chlocal.StartClusterForTest(b, chlocal.ClusterOptions{Name: "otel_cluster"})
	const rowsPer = 1000
	ld := benchLogs(rowsPer)
	for _, mode := range []string{"distributed", "per_shard"} {
		b.Run(mode, func(b *testing.B) {
			exps := clusterBenchExporters(b, c, mode == "distributed")
			var next atomic.Uint64
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					exp := exps[next.Add(1)%uint64(len(exps))]
					if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*rowsPer)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// clusterBenchExporters creates a schema of its own on every node and returns started logs
// exporters: one writing through node 1's Distributed tables, or one per node writing to its
// local tables.
func clusterBenchExporters(b *testing.B, c *chlocal.Cluster, distributed bool) []exporter.Logs {
	cfg := createDefaultConfig().(*Config)
	cfg.Database = fmt.Sprintf("bench_%v_%d", distributed, time.Now().UnixNano())
	cfg.ClusterName, cfg.DistributedTables, cfg.CreateSchema = c.Name(), distributed, false
	// Every request is the same rows: with tokens the server would drop most of them unwritten.
	cfg.Deduplicate = false
	createPerNode(b, c, cfg)
	ctx := context.Background()
	endpoints := c.Endpoints()
	if distributed {
		endpoints = endpoints[:1]
	}
	var exps []exporter.Logs
	for i, ep := range endpoints {
		cfg := *cfg
		cfg.Endpoint = ep
		set := nopSettings()
		// An ID each: the memory budget is per exporter ID.
		set.ID = component.NewIDWithName(NewFactory().Type(), fmt.Sprintf("%s_%d", cfg.Database, i))
		exp, err := NewFactory().CreateLogs(ctx, set, &cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
		exps = append(exps, exp)
	}
	return exps
}

// benchLogs is one request of n log records with distinct bodies and timestamps.
func benchLogs(n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := records.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Microsecond)))
		r.Body().SetStr(fmt.Sprintf("GET /api/orders/%d 200 %dms", i, i%97))
		r.Attributes().PutStr("http.route", "/api/orders/{id}")
	}
	return ld
}

// createPerNode runs cfg's cluster DDL on every node, without ON CLUSTER (what the exporter
// creates on a real cluster; the embedded nodes cannot run distributed DDL).
func createPerNode(t testing.TB, c *chlocal.Cluster, cfg *Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ep := range c.Endpoints() {
		conn, err := chlocal.Open(ctx, ep)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range chschema.StatementsPerNode(cfg.schemaOptions(true)) {
			if err := conn.Exec(ctx, s.SQL); err != nil {
				_ = conn.Close()
				t.Fatalf("%s on %s: %v", s.Name, ep, err)
			}
		}
		_ = conn.Close()
	}
}
