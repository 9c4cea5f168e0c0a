package clickhouselanesexporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestLifecycle: shutdown without start is safe, and start/consume/shutdown works twice in a
// row against the same schema (the DDL is idempotent; no connection outlives shutdown, which
// goleak checks).
func TestLifecycle(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	f := NewFactory()
	ctx := context.Background()
	exp, err := f.CreateTraces(ctx, nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown without start: %v", err)
	}
	for range 2 {
		tr, err := f.CreateTraces(ctx, nopSettings(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		lg, err := f.CreateLogs(ctx, nopSettings(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := f.CreateMetrics(ctx, nopSettings(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		host := componenttest.NewNopHost()
		for _, start := range []func() error{
			func() error { return tr.Start(ctx, host) }, func() error { return lg.Start(ctx, host) },
			func() error { return mt.Start(ctx, host) },
		} {
			if err := start(); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.ConsumeTraces(ctx, testTraces()); err != nil {
			t.Fatal(err)
		}
		if err := lg.ConsumeLogs(ctx, testLogs()); err != nil {
			t.Fatal(err)
		}
		if err := mt.ConsumeMetrics(ctx, testMetrics()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []func(context.Context) error{tr.Shutdown, lg.Shutdown, mt.Shutdown} {
			if err := c(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestBothIndexBranchesAcceptedByServer runs the DDL of both server-version branches against
// the real server, so the bloom-filter branch is known to be valid SQL too.
func TestBothIndexBranchesAcceptedByServer(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	for _, text := range []bool{true, false} {
		cfg := testConfig(t, endpoint)
		opts, err := cfg.insertOptions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		opts.Database = ""
		ins := chinsert.New(opts)
		for _, s := range chschema.Statements(cfg.schemaOptions(text)) {
			if err := ins.Exec(context.Background(), s.SQL); err != nil {
				t.Errorf("text=%v %s: %v", text, s.Name, err)
			}
		}
		_ = ins.Close()
	}
}

// TestEachSignalCreatesItsOwnTables: a logs exporter creates the database and the logs table
// only; the traces and metric tables are the business of their own exporters.
func TestEachSignalCreatesItsOwnTables(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	startLogsExporter(t, cfg)
	rows, err := openDB(t, endpoint).Query(context.Background(),
		"SELECT name FROM system.tables WHERE database = ? ORDER BY name", cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if len(tables) != 1 || tables[0] != cfg.LogsTableName {
		t.Fatalf("a logs exporter created %v, want only %s", tables, cfg.LogsTableName)
	}
}
