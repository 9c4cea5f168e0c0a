package chschema

// metricCommon are the leading columns every metric table shares. Times are DateTime (seconds),
// as in the contrib schema, so existing queries keep their types.
var metricCommon = []string{
	"    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
	"    `ResourceSchemaUrl` String CODEC(ZSTD(1))",
	"    `ScopeName` String CODEC(ZSTD(1))",
	"    `ScopeVersion` String CODEC(ZSTD(1))",
	"    `ScopeAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
	"    `ScopeDroppedAttrCount` UInt32 CODEC(ZSTD(1))",
	"    `ScopeSchemaUrl` String CODEC(ZSTD(1))",
	"    `ServiceName` LowCardinality(String) CODEC(ZSTD(1))",
	"    `MetricName` LowCardinality(String) CODEC(ZSTD(1))",
	"    `MetricDescription` String CODEC(ZSTD(1))",
	"    `MetricUnit` String CODEC(ZSTD(1))",
	"    `Attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))",
	"    `StartTimeUnix` DateTime CODEC(Delta, ZSTD(1))",
	"    `TimeUnix` DateTime CODEC(Delta, ZSTD(1))",
}

const exemplars = "    `Exemplars` Nested (\n        `FilteredAttributes` Map(LowCardinality(String), String),\n" +
	"        `TimeUnix` DateTime,\n        `Value` Float64,\n        `SpanId` String,\n        `TraceId` String\n    ) CODEC(ZSTD(1))"

var (
	gaugeColumns = []string{
		"    `Value` Float64 CODEC(ZSTD(1))",
		"    `Flags` UInt32 CODEC(ZSTD(1))",
		exemplars,
	}
	sumColumns = []string{
		"    `Value` Float64 CODEC(ZSTD(1))",
		"    `Flags` UInt32 CODEC(ZSTD(1))",
		exemplars,
		"    `AggregationTemporality` Int32 CODEC(ZSTD(1))",
		"    `IsMonotonic` Bool CODEC(Delta, ZSTD(1))",
	}
	histogramColumns = []string{
		"    `Count` UInt64 CODEC(Delta, ZSTD(1))",
		"    `Sum` Float64 CODEC(ZSTD(1))",
		"    `BucketCounts` Array(UInt64) CODEC(ZSTD(1))",
		"    `ExplicitBounds` Array(Float64) CODEC(ZSTD(1))",
		exemplars,
		"    `Flags` UInt32 CODEC(ZSTD(1))",
		"    `Min` Float64 CODEC(ZSTD(1))",
		"    `Max` Float64 CODEC(ZSTD(1))",
		"    `AggregationTemporality` Int32 CODEC(ZSTD(1))",
	}
	expHistogramColumns = []string{
		"    `Count` UInt64 CODEC(Delta, ZSTD(1))",
		"    `Sum` Float64 CODEC(ZSTD(1))",
		"    `Scale` Int32 CODEC(ZSTD(1))",
		"    `ZeroCount` UInt64 CODEC(ZSTD(1))",
		"    `PositiveOffset` Int32 CODEC(ZSTD(1))",
		"    `PositiveBucketCounts` Array(UInt64) CODEC(ZSTD(1))",
		"    `NegativeOffset` Int32 CODEC(ZSTD(1))",
		"    `NegativeBucketCounts` Array(UInt64) CODEC(ZSTD(1))",
		exemplars,
		"    `Flags` UInt32 CODEC(ZSTD(1))",
		"    `Min` Float64 CODEC(ZSTD(1))",
		"    `Max` Float64 CODEC(ZSTD(1))",
		"    `AggregationTemporality` Int32 CODEC(ZSTD(1))",
	}
	summaryColumns = []string{
		"    `Count` UInt64 CODEC(Delta, ZSTD(1))",
		"    `Sum` Float64 CODEC(ZSTD(1))",
		"    `ValueAtQuantiles` Nested (\n        `Quantile` Float64,\n        `Value` Float64\n    ) CODEC(ZSTD(1))",
		"    `Flags` UInt32 CODEC(ZSTD(1))",
	}
)

func metricTable(o Options, table string, columns []string) string {
	body := append(append([]string(nil), metricCommon...), columns...)
	body = append(body, o.mapIndexes("idx_res_attr", "ResourceAttributes")...)
	body = append(body, o.mapIndexes("idx_scope_attr", "ScopeAttributes")...)
	body = append(body, o.mapIndexes("idx_attr", "Attributes")...)
	body = append(body, "    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1")
	return createTable(o, table, body,
		"PARTITION BY toDate(TimeUnix)\nORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)"+
			o.ttl("toDateTime(TimeUnix)"))
}
