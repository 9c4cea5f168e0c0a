package clickhouselanesexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// createGoldenSchema runs testdata/contrib/<file> against cfg's database, as a user who kept
// the tables an older exporter made would have them.
func createGoldenSchema(t *testing.T, endpoint string, cfg *Config, file string) {
	t.Helper()
	ddl, err := os.ReadFile(filepath.Join("testdata", "contrib", file))
	if err != nil {
		t.Fatal(err)
	}
	conn := openDB(t, endpoint)
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE DATABASE "+chschema.Ident(cfg.Database)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(string(ddl), "{database}", cfg.Database), ";\n") {
		if strings.Contains(stmt, "CREATE") {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v\n%s", file, err, stmt)
			}
		}
	}
}

// TestContribSchemas points the exporter (create_schema: false) at the tables of the contrib
// exporter versions users really have, inserts a request of each signal and reads the rows
// back. Tables from before EventName lack columns the exporter has rows for, and compute
// TimestampTime themselves: they are written with the columns they have, and the missing ones
// are logged once.
func TestContribSchemas(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	for _, tc := range []struct {
		file          string
		missingInLogs []string
	}{
		{"v0.161.sql", nil},
		{"before_eventname.sql", []string{"EventName"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg := testConfig(t, endpoint)
			cfg.CreateSchema = false
			createGoldenSchema(t, endpoint, cfg, tc.file)
			conn := openDB(t, endpoint)
			ctx := context.Background()
			read := func(q string, dest ...any) {
				t.Helper()
				q = strings.ReplaceAll(q, "{db}", chschema.Ident(cfg.Database))
				if err := conn.QueryRow(clickhouse.Context(ctx), q).Scan(dest...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			t.Run("logs", func(t *testing.T) {
				core, logs := observer.New(zap.WarnLevel)
				set := nopSettings()
				set.Logger = zap.New(core)
				exp, err := NewFactory().CreateLogs(ctx, set, cfg)
				if err != nil {
					t.Fatal(err)
				}
				startComponent(t, exp)
				// The second request must not log the missing columns again. (These tables have
				// no deduplication window, so it is written again too.)
				for range 2 {
					if err := exp.ConsumeLogs(ctx, testLogs()); err != nil {
						t.Fatal(err)
					}
				}
				var n uint64
				var body, service, severity string
				read("SELECT count(), any(Body), any(ServiceName), any(SeverityText) FROM {db}.otel_logs WHERE SeverityText = 'WARN'", &n, &body, &service, &severity)
				if n != 2 || body != "disk \uFFFD almost full" && body != "disk \xff almost full" || service != "api" {
					t.Errorf("WARN rows: %d, body %q, service %q", n, body, service)
				}
				if got := countRows(t, conn, cfg.Database, cfg.LogsTableName); got != 4 {
					t.Errorf("%d rows, want the 2 records of each request", got)
				}
				if tc.missingInLogs != nil {
					var matches uint64
					read("SELECT countIf(TimestampTime = toDateTime(Timestamp)) FROM {db}.otel_logs", &matches)
					if matches != 4 {
						t.Errorf("TimestampTime computed by the table on %d rows, want 4", matches)
					}
				}
				missingLogged(t, logs, cfg.LogsTableName, tc.missingInLogs)
			})

			t.Run("traces", func(t *testing.T) {
				exp, err := NewFactory().CreateTraces(ctx, nopSettings(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				startComponent(t, exp)
				if err := exp.ConsumeTraces(ctx, testTraces()); err != nil {
					t.Fatal(err)
				}
				var n, events uint64
				var name, kind string
				var duration uint64
				read("SELECT count(), any(SpanName), any(SpanKind), any(toUInt64(Duration)), any(length(Events.Name)) FROM {db}.otel_traces WHERE ServiceName = 'checkout' AND SpanName = 'GET /cart'",
					&n, &name, &kind, &duration, &events)
				if n != 1 || kind != "Server" || duration != 1_500_000 || events != 2 {
					t.Errorf("span: %d rows, kind %q, duration %d, %d events", n, kind, duration, events)
				}
				if got := countRows(t, conn, cfg.Database, cfg.TracesTableName+"_trace_id_ts"); got == 0 {
					t.Error("the materialized view wrote nothing to the trace id table")
				}
			})

			t.Run("metrics", func(t *testing.T) {
				exp, err := NewFactory().CreateMetrics(ctx, nopSettings(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				startComponent(t, exp)
				if err := exp.ConsumeMetrics(ctx, testMetrics()); err != nil {
					t.Fatal(err)
				}
				for table, metric := range map[string]string{
					cfg.MetricsTables.Gauge.Name: "queue.depth", cfg.MetricsTables.Sum.Name: "requests",
					cfg.MetricsTables.Histogram.Name: "latency", cfg.MetricsTables.ExponentialHistogram.Name: "size",
					cfg.MetricsTables.Summary.Name: "rpc.duration",
				} {
					var n uint64
					var service string
					var seconds int64
					read(fmt.Sprintf("SELECT count(), any(ServiceName), any(toInt64(toUnixTimestamp(TimeUnix))) FROM {db}.%s WHERE MetricName = '%s'", chschema.Ident(table), metric),
						&n, &service, &seconds)
					if n != 1 || service != "billing" || seconds != int64(metricTime)/1e9 {
						t.Errorf("%s: %d rows of %s, service %q, time %d (want %d)", table, n, metric, service, seconds, int64(metricTime)/1e9)
					}
				}
			})
		})
	}
}

// missingLogged checks the exporter said once, naming the table, which columns it does not
// write, and said nothing when the table has them all.
func missingLogged(t *testing.T, logs *observer.ObservedLogs, table string, missing []string) {
	t.Helper()
	entries := logs.FilterMessageSnippet("lacks optional columns").All()
	if missing == nil {
		if len(entries) != 0 {
			t.Errorf("logged missing columns for a complete table: %v", entries[0].ContextMap())
		}
		return
	}
	if len(entries) != 1 {
		t.Fatalf("want one log line about missing columns, got %d", len(entries))
	}
	f := entries[0].ContextMap()
	if f["table"] != table || fmt.Sprint(f["missing"]) != fmt.Sprint(missing) {
		t.Errorf("log fields = %v, want table %s missing %v", f, table, missing)
	}
}

// TestRequiredColumnMissingFailsStart: a table without a column the exporter cannot write
// without (here Timestamp) is a start error naming the table and the column, not a stream
// of failing inserts; so is a table that does not exist with create_schema off.
func TestRequiredColumnMissingFailsStart(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.CreateSchema = false
	conn := openDB(t, endpoint)
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE DATABASE "+chschema.Ident(cfg.Database)); err != nil {
		t.Fatal(err)
	}
	start := func(create func(context.Context) (component.Component, error)) error {
		c, err := create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Start(ctx, nil)
		if shutdownErr := c.Shutdown(ctx); shutdownErr != nil {
			t.Errorf("shutdown: %v", shutdownErr)
		}
		return err
	}
	logs := func(ctx context.Context) (component.Component, error) {
		return NewFactory().CreateLogs(ctx, nopSettings(), cfg)
	}
	err := start(logs)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), cfg.LogsTableName) {
		t.Fatalf("want a start error naming the missing table, got %v", err)
	}
	if err := conn.Exec(ctx, "CREATE TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)+
		" (Body String, ServiceName String) ENGINE = MergeTree ORDER BY tuple()"); err != nil {
		t.Fatal(err)
	}
	err = start(logs)
	if err == nil || !strings.Contains(err.Error(), "no column Timestamp") {
		t.Fatalf("want a start error naming the missing Timestamp column, got %v", err)
	}
	if err := conn.Exec(ctx, "ALTER TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)+
		" ADD COLUMN Timestamp DateTime64(9) DEFAULT now64(9)"); err != nil {
		t.Fatal(err)
	}
	err = start(logs)
	if err == nil || !strings.Contains(err.Error(), "computes column Timestamp itself (DEFAULT)") {
		t.Fatalf("want a start error saying the table computes Timestamp, got %v", err)
	}
}

// TestColumnDroppedUnderRunningExporter: a column dropped from a table the exporter is writing
// fails one attempt with NO_SUCH_COLUMN_IN_TABLE; the exporter reads the columns again and the
// retry writes the rows without it, so the client never sees the error.
func TestColumnDroppedUnderRunningExporter(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	core, logs := observer.New(zap.WarnLevel)
	set := nopSettings()
	set.Logger = zap.New(core)
	ctx := context.Background()
	exp, err := NewFactory().CreateLogs(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	if err := exp.ConsumeLogs(ctx, testLogs()); err != nil {
		t.Fatal(err)
	}
	conn := openDB(t, endpoint)
	if err := conn.Exec(ctx, "ALTER TABLE "+quotedTable(cfg.Database, cfg.LogsTableName)+" DROP COLUMN EventName"); err != nil {
		t.Fatal(err)
	}
	next := testLogs()
	next.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr("after the ALTER")
	if err := exp.ConsumeLogs(ctx, next); err != nil {
		t.Fatalf("insert after the column was dropped: %v", err)
	}
	if n := countRows(t, conn, cfg.Database, cfg.LogsTableName); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
	missingLogged(t, logs, cfg.LogsTableName, []string{"EventName"})
}

// TestTimestampPrecisionOfTheTable: a table whose Timestamp is DateTime64(3) (a user's own
// variant) stores the right instant: the exporter sends nanoseconds as DateTime64(9) and the
// server converts, instead of the driver relabelling them as milliseconds.
func TestTimestampPrecisionOfTheTable(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.CreateSchema = false
	conn := openDB(t, endpoint)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE DATABASE " + chschema.Ident(cfg.Database),
		"CREATE TABLE " + quotedTable(cfg.Database, cfg.LogsTableName) + " (Timestamp DateTime64(3), Body String) ENGINE = MergeTree ORDER BY Timestamp",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := NewFactory().CreateLogs(ctx, nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	if err := exp.ConsumeLogs(ctx, testLogs()); err != nil {
		t.Fatal(err)
	}
	var ms int64
	q := "SELECT toUnixTimestamp64Milli(min(Timestamp)) FROM " + quotedTable(cfg.Database, cfg.LogsTableName)
	if err := conn.QueryRow(clickhouse.Context(ctx), q).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != 1_764_000_000_000 {
		t.Fatalf("stored %d ms, want 1764000000000 (the record's time)", ms)
	}
}

// TestUnreachableServerDoesNotFailStart: with create_schema off, a ClickHouse that cannot be
// reached at start is not a start error (it may come up later); the columns are read on the
// first insert.
func TestUnreachableServerDoesNotFailStart(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "tcp://127.0.0.1:1" // refuses at once
	cfg.CreateSchema = false
	exp, err := NewFactory().CreateLogs(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
}
