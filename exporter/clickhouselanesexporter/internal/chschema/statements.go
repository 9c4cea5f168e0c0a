package chschema

import "strings"

// Statement is one DDL statement with a short name for error messages.
type Statement struct {
	Name string
	SQL  string
	// Signal is the signal whose rows the table holds ("traces", "logs" or "metrics"), or
	// "" for the database, which every signal needs.
	Signal string
}

// Statements returns the DDL in execution order: the database, then every table, the trace-id
// lookup table before the materialized view that feeds it (with Distributed, each local table
// is followed by its Distributed table). All are IF NOT EXISTS, so running them again against
// an existing schema is a no-op.
func Statements(o Options) []Statement {
	stmts := []Statement{{"database", "CREATE DATABASE IF NOT EXISTS " + Ident(o.Database) + o.onCluster(), ""}}
	add := func(table, signal, sql, shardingKey string) {
		stmts = append(stmts, Statement{o.local(table), sql, signal})
		if o.distributed() {
			stmts = append(stmts, Statement{table, distributedTable(o, table, shardingKey), signal})
		}
	}
	traceIDTs := o.Tables.Traces + "_trace_id_ts"
	add(o.Tables.Logs, "logs", logsTable(o), logsShardingKey)
	add(o.Tables.Traces, "traces", tracesTable(o), traceShardingKey)
	add(traceIDTs, "traces", traceIDTsTable(o), traceShardingKey)
	stmts = append(stmts, Statement{traceIDTs + "_mv", traceIDTsView(o), "traces"})
	for _, m := range []struct {
		table   string
		columns []string
	}{
		{o.Tables.Gauge, gaugeColumns}, {o.Tables.Sum, sumColumns}, {o.Tables.Histogram, histogramColumns},
		{o.Tables.ExponentialHistogram, expHistogramColumns}, {o.Tables.Summary, summaryColumns},
	} {
		add(m.table, "metrics", metricTable(o, m.table, m.columns), metricShardingKey)
	}
	return stmts
}

// StatementsPerNode returns Statements without ON CLUSTER: what to run on every node of a
// cluster that cannot run distributed DDL (no Keeper), and what the tests run on the
// embedded cluster. Nothing else differs.
func StatementsPerNode(o Options) []Statement {
	o.perNode = true
	return Statements(o)
}

// Sharding keys are computed from the row only, never rand(): a retried insert must send each
// row to the shard it went to the first time, so that the shard which had committed its part
// recognises the deduplication token and the one which had not gets exactly its rows. A
// trace's spans share a shard (so does its trace-id row, written there by the view); a
// metric series stays on one shard.
const (
	traceShardingKey  = "cityHash64(TraceId)"
	logsShardingKey   = "cityHash64(ServiceName, Timestamp, Body)"
	metricShardingKey = "cityHash64(ServiceName, MetricName, Attributes)"
)

// distributedTable is the Distributed table named table over o.local(table) on every shard.
func distributedTable(o Options, table, shardingKey string) string {
	return "CREATE TABLE IF NOT EXISTS " + qualified(o.Database, table) + o.onCluster() +
		" AS " + qualified(o.Database, o.local(table)) + "\nENGINE = Distributed(" + Ident(o.Cluster) + ", " +
		Ident(o.Database) + ", " + Ident(o.local(table)) + ", " + shardingKey + ")"
}

// index renders a skip index: a text index when the server has them, else the bloom filter
// (or token bloom filter, for free text) the contrib schema uses.
func (o Options) index(name, expr, tokenizer, bloom string) string {
	if o.TextIndexes {
		return "    INDEX " + name + " " + expr + " TYPE text(tokenizer = '" + tokenizer + "')"
	}
	return "    INDEX " + name + " " + expr + " TYPE " + bloom
}

// mapIndexes indexes the keys and the values of a Map column.
func (o Options) mapIndexes(prefix, column string) []string {
	return []string{
		o.index(prefix+"_key", "mapKeys("+column+")", "array", "bloom_filter(0.01) GRANULARITY 1"),
		o.index(prefix+"_value", "mapValues("+column+")", "array", "bloom_filter(0.01) GRANULARITY 1"),
	}
}

func createTable(o Options, table string, body []string, tail string) string {
	return "CREATE TABLE IF NOT EXISTS " + qualified(o.Database, o.local(table)) + o.onCluster() + " (\n" +
		strings.Join(body, ",\n") + "\n) ENGINE = " + o.engine() + "\n" + tail + "\n" + o.settings()
}

func logsTable(o Options) string {
	body := []string{
		"    `Timestamp` DateTime64(9) CODEC(Delta(8), ZSTD(1))",
		"    `TraceId` String CODEC(ZSTD(1))",
		"    `SpanId` String CODEC(ZSTD(1))",
		"    `TraceFlags` UInt8",
		"    `SeverityText` LowCardinality(String) CODEC(ZSTD(1))",
		"    `SeverityNumber` UInt8",
		"    `ServiceName` LowCardinality(String) CODEC(ZSTD(1))",
		"    `Body` String CODEC(ZSTD(1))",
		"    `ResourceSchemaUrl` LowCardinality(String) CODEC(ZSTD(1))",
		"    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
		"    `ScopeSchemaUrl` LowCardinality(String) CODEC(ZSTD(1))",
		"    `ScopeName` String CODEC(ZSTD(1))",
		"    `ScopeVersion` LowCardinality(String) CODEC(ZSTD(1))",
		"    `ScopeAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
		"    `LogAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
		"    `EventName` String CODEC(ZSTD(1))",
	}
	for _, k := range materializedResourceKeys {
		body = append(body, "    "+Ident("__otel_materialized_"+k)+
			" LowCardinality(String) MATERIALIZED ResourceAttributes['"+k+"'] CODEC(ZSTD(1))")
	}
	body = append(body, o.index("idx_trace_id", "TraceId", "array", "bloom_filter(0.001) GRANULARITY 1"))
	body = append(body, o.mapIndexes("idx_res_attr", "ResourceAttributes")...)
	body = append(body, o.mapIndexes("idx_scope_attr", "ScopeAttributes")...)
	body = append(body, o.mapIndexes("idx_log_attr", "LogAttributes")...)
	body = append(body, o.index("idx_lower_body", "lower(Body)", "splitByNonAlpha", "tokenbf_v1(32768, 3, 0) GRANULARITY 8"))
	return createTable(o, o.Tables.Logs, body,
		"PARTITION BY toDate(Timestamp)\nORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)"+
			o.ttl("toDateTime(Timestamp)"))
}

// materializedResourceKeys become LowCardinality columns on the logs table, as in the contrib
// schema, so common Kubernetes filters do not scan the attribute map.
var materializedResourceKeys = []string{
	"k8s.cluster.name", "k8s.container.name", "k8s.deployment.name", "k8s.namespace.name",
	"k8s.node.name", "k8s.pod.name", "k8s.pod.uid", "deployment.environment.name",
}

func tracesTable(o Options) string {
	body := []string{
		"    `Timestamp` DateTime64(9) CODEC(Delta, ZSTD(1))",
		"    `TraceId` String CODEC(ZSTD(1))",
		"    `SpanId` String CODEC(ZSTD(1))",
		"    `ParentSpanId` String CODEC(ZSTD(1))",
		"    `TraceState` String CODEC(ZSTD(1))",
		"    `SpanName` LowCardinality(String) CODEC(ZSTD(1))",
		"    `SpanKind` LowCardinality(String) CODEC(ZSTD(1))",
		"    `ServiceName` LowCardinality(String) CODEC(ZSTD(1))",
		"    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
		"    `ScopeName` String CODEC(ZSTD(1))",
		"    `ScopeVersion` String CODEC(ZSTD(1))",
		"    `SpanAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
		"    `Duration` UInt64 CODEC(ZSTD(1))",
		"    `StatusCode` LowCardinality(String) CODEC(ZSTD(1))",
		"    `StatusMessage` String CODEC(ZSTD(1))",
		"    `Events` Nested (\n        `Timestamp` DateTime64(9),\n        `Name` LowCardinality(String),\n" +
			"        `Attributes` Map(LowCardinality(String), String)\n    ) CODEC(ZSTD(1))",
		"    `Links` Nested (\n        `TraceId` String,\n        `SpanId` String,\n        `TraceState` String,\n" +
			"        `Attributes` Map(LowCardinality(String), String)\n    ) CODEC(ZSTD(1))",
		o.index("idx_trace_id", "TraceId", "array", "bloom_filter(0.001) GRANULARITY 1"),
	}
	body = append(body, o.mapIndexes("idx_res_attr", "ResourceAttributes")...)
	body = append(body, o.mapIndexes("idx_span_attr", "SpanAttributes")...)
	body = append(body, "    INDEX idx_duration Duration TYPE minmax GRANULARITY 1")
	return createTable(o, o.Tables.Traces, body,
		"PARTITION BY toDate(Timestamp)\nORDER BY (ServiceName, SpanName, toDateTime(Timestamp))"+
			o.ttl("toDateTime(Timestamp)"))
}

// traceIDTsTable maps a trace id to its time range, so "find trace by id" reads one small
// table instead of every partition of the spans table.
func traceIDTsTable(o Options) string {
	body := []string{
		"    `TraceId` String CODEC(ZSTD(1))",
		"    `Start` DateTime CODEC(Delta, ZSTD(1))",
		"    `End` DateTime CODEC(Delta, ZSTD(1))",
		o.index("idx_trace_id", "TraceId", "array", "bloom_filter(0.01) GRANULARITY 1"),
	}
	return createTable(o, o.Tables.Traces+"_trace_id_ts", body,
		"PARTITION BY toDate(Start)\nORDER BY (TraceId, Start)"+o.ttl("toDateTime(Start)"))
}

func traceIDTsView(o Options) string {
	// The view runs on every node, from the local spans to the local lookup table.
	return "CREATE MATERIALIZED VIEW IF NOT EXISTS " + qualified(o.Database, o.Tables.Traces+"_trace_id_ts_mv") +
		o.onCluster() + "\nTO " + qualified(o.Database, o.local(o.Tables.Traces+"_trace_id_ts")) +
		"\nAS SELECT\n    TraceId,\n    min(Timestamp) AS Start,\n    max(Timestamp) AS End\nFROM " +
		qualified(o.Database, o.local(o.Tables.Traces)) + "\nWHERE TraceId != ''\nGROUP BY TraceId"
}
