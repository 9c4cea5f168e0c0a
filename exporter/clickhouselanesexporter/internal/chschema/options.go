package chschema

import (
	"fmt"
	"strings"
	"time"
)

// Tables names the tables written, one per signal (and metric type).
type Tables struct {
	Logs                 string
	Traces               string
	Gauge                string
	Sum                  string
	Histogram            string
	ExponentialHistogram string
	Summary              string
}

// DefaultTables are the contrib exporter's names.
var DefaultTables = Tables{
	Logs:                 "otel_logs",
	Traces:               "otel_traces",
	Gauge:                "otel_metrics_gauge",
	Sum:                  "otel_metrics_sum",
	Histogram:            "otel_metrics_histogram",
	ExponentialHistogram: "otel_metrics_exponential_histogram",
	Summary:              "otel_metrics_summary",
}

// Options shape the DDL.
type Options struct {
	Database string
	Tables   Tables
	// Cluster, when set, adds ON CLUSTER to every statement (see onCluster).
	Cluster string
	// Distributed, with Cluster, makes each named table a Distributed table over a table of
	// the same name plus LocalSuffix on every node: writes spread over the shards by a sharding
	// key computed from the row, reads see every shard.
	Distributed bool
	// perNode leaves ON CLUSTER out, for running the statements on each node yourself; see
	// StatementsPerNode.
	perNode bool
	// Engine is the table engine name, e.g. MergeTree or ReplicatedMergeTree; EngineParams go
	// between its parentheses verbatim (they are operator-supplied, validated by the config).
	Engine       string
	EngineParams string
	// TTL drops rows older than this; zero keeps them forever.
	TTL time.Duration
	// TextIndexes picks text(tokenizer=...) skip indexes instead of bloom filters; see
	// TextIndexesSupported.
	TextIndexes bool
	// DedupWindow sets non_replicated_deduplication_window on plain (non-Replicated) MergeTree
	// tables so insert_deduplication_token works there; Replicated engines deduplicate by
	// default. Zero leaves the setting out.
	DedupWindow int
}

// TextIndexesSupported reports whether a server of this version accepts the text skip indexes
// (GA in 26.2); older servers get bloom filters.
func TextIndexesSupported(major, minor int) bool {
	return major > 26 || (major == 26 && minor >= 2)
}

// onCluster is the one place the ON CLUSTER clause is written, so the statements a cluster
// runs and the ones StatementsPerNode returns differ by this clause and nothing else.
func (o Options) onCluster() string {
	if o.Cluster == "" || o.perNode {
		return ""
	}
	return " ON CLUSTER " + Ident(o.Cluster)
}

// LocalSuffix names the per-node table under a Distributed one: otel_logs_local.
const LocalSuffix = "_local"

func (o Options) distributed() bool { return o.Distributed && o.Cluster != "" }

// local is the name of the table that holds the rows on a node: table itself, or with
// Distributed the table under it.
func (o Options) local(table string) string {
	if o.distributed() {
		return table + LocalSuffix
	}
	return table
}

func (o Options) engine() string {
	name := o.Engine
	if name == "" {
		name = "MergeTree"
	}
	return name + "(" + o.EngineParams + ")"
}

func (o Options) replicated() bool {
	return strings.HasPrefix(o.Engine, "Replicated") || strings.HasPrefix(o.Engine, "Shared")
}

// settings is the SETTINGS clause shared by every table.
func (o Options) settings() string {
	s := "SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"
	if o.DedupWindow > 0 && !o.replicated() {
		s += fmt.Sprintf(", non_replicated_deduplication_window = %d", o.DedupWindow)
	}
	return s
}

// ttl renders "TTL expr + toIntervalX(n)" using the coarsest unit that divides the duration.
func (o Options) ttl(timeExpr string) string {
	d := o.TTL
	switch {
	case d <= 0:
		return ""
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("\nTTL %s + toIntervalDay(%d)", timeExpr, d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("\nTTL %s + toIntervalHour(%d)", timeExpr, d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("\nTTL %s + toIntervalMinute(%d)", timeExpr, d/time.Minute)
	default:
		return fmt.Sprintf("\nTTL %s + toIntervalSecond(%d)", timeExpr, d/time.Second)
	}
}
