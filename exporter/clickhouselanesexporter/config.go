package clickhouselanesexporter // import "github.com/sluicehq/sluice/exporter/clickhouselanesexporter"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
)

// Config is the configuration of the clickhouselanes exporter.
type Config struct {
	// Endpoint is the ClickHouse native-protocol endpoint: tcp://host:9000 or
	// clickhouse://host:9000. Several hosts, comma-separated (tcp://a:9000,b:9000), are tried
	// in order on every (re)connect for failover.
	Endpoint string              `mapstructure:"endpoint"`
	Database string              `mapstructure:"database"`
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// TLS secures the native connection; insecure (plain TCP) unless configured.
	TLS configtls.ClientConfig `mapstructure:"tls"`
	// DialTimeout bounds connecting to one host; ReadTimeout the wait for one server packet.
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
	ReadTimeout time.Duration `mapstructure:"read_timeout"`
	// PoolSize is the number of insert paths (connection + column buffers) per destination and
	// signal, so the most inserts in flight at once to one ClickHouse.
	PoolSize int `mapstructure:"pool_size"`
	// Compression of native blocks: lz4 (default), zstd or none.
	Compression Compression `mapstructure:"compression"`
	// ClientName is reported to ClickHouse (system.query_log's client_name).
	ClientName string `mapstructure:"client_name"`
	// AsyncInsert: see AsyncInsertConfig.
	AsyncInsert AsyncInsertConfig `mapstructure:"async_insert"`
	// InsertTimeout bounds one insert attempt, so a sick destination cannot hold a lane long.
	InsertTimeout time.Duration `mapstructure:"insert_timeout"`
	// Deduplicate sends an insert_deduplication_token derived from each block's content, so a
	// retried insert that had in fact committed is not written twice.
	Deduplicate bool `mapstructure:"deduplicate"`

	// CreateSchema creates the database and tables at start.
	CreateSchema bool `mapstructure:"create_schema"`
	// TTL drops rows older than this (0 keeps them).
	TTL time.Duration `mapstructure:"ttl"`
	// TableEngine is the engine of created tables.
	TableEngine TableEngine `mapstructure:"table_engine"`
	// ClusterName adds ON CLUSTER to the DDL.
	ClusterName string `mapstructure:"cluster_name"`
	// DistributedTables, with ClusterName, makes the configured tables Distributed tables over
	// <name>_local tables on every shard, so inserts spread over the shards.
	DistributedTables bool `mapstructure:"distributed_tables"`
	// DeduplicationWindow is non_replicated_deduplication_window on plain MergeTree tables:
	// how many recent insert tokens each table remembers.
	DeduplicationWindow int `mapstructure:"deduplication_window"`

	// Acknowledge: on_insert (default), on_wal or on_enqueue; see Acknowledge.
	Acknowledge Acknowledge `mapstructure:"acknowledge"`
	// WAL is the lanes' write-ahead log, used with acknowledge on_wal.
	WAL WALConfig `mapstructure:"wal"`
	// Lanes splits rows into lanes, each with its own queue, batcher, breaker and worker.
	Lanes LanesConfig `mapstructure:"lanes"`
	// Retry bounds the attempts per batch inside a lane.
	Retry RetryConfig `mapstructure:"retry"`
	// Breaker configures each lane's circuit breaker.
	Breaker BreakerConfig `mapstructure:"breaker"`
	// DrainTimeout is how long shutdown keeps inserting what is queued before giving up
	// (and reporting what it could not write).
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
	// Routes send the lanes of some keys to their own ClickHouse.
	Routes []RouteConfig `mapstructure:"routes"`

	LogsTableName   string              `mapstructure:"logs_table_name"`
	TracesTableName string              `mapstructure:"traces_table_name"`
	MetricsTables   MetricsTablesConfig `mapstructure:"metrics_tables"`
}

// AsyncInsertConfig exposes ClickHouse's async_insert. Read this before enabling it: over the
// native protocol every insert from this exporter is already one large block, so the server-side
// buffer buys little; with wait (the default when enabled) each insert still waits for the
// buffer flush (async_insert_busy_timeout_ms), and without wait an acknowledged insert can
// still be lost if the server dies before flushing. The exporter always sends async_insert
// explicitly, so a server whose profile defaults it to 1 does not change behaviour silently.
type AsyncInsertConfig struct {
	Enabled bool `mapstructure:"enabled"`
	Wait    bool `mapstructure:"wait"`
}

// TableEngine is the ENGINE clause of created tables: Name(Params).
type TableEngine struct {
	Name   string `mapstructure:"name"`
	Params string `mapstructure:"params"`
}

// MetricsTablesConfig names the five metric tables.
type MetricsTablesConfig struct {
	Gauge                MetricTable `mapstructure:"gauge"`
	Sum                  MetricTable `mapstructure:"sum"`
	Summary              MetricTable `mapstructure:"summary"`
	Histogram            MetricTable `mapstructure:"histogram"`
	ExponentialHistogram MetricTable `mapstructure:"exponential_histogram"`
}

// MetricTable names one metric table.
type MetricTable struct {
	Name string `mapstructure:"name"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; errors name the YAML key and the bad value.
func (c *Config) Validate() error {
	var errs []error
	if _, err := parseEndpoint(c.Endpoint, c.Password != ""); err != nil {
		errs = append(errs, err)
	}
	if c.Database == "" {
		errs = append(errs, errors.New("database must not be empty"))
	}
	for key, d := range map[string]time.Duration{
		"insert_timeout": c.InsertTimeout, "dial_timeout": c.DialTimeout, "read_timeout": c.ReadTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, found %s", key, d))
		}
	}
	if c.PoolSize <= 0 {
		errs = append(errs, fmt.Errorf("pool_size must be positive, found %d", c.PoolSize))
	}
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("ttl must not be negative, found %s", c.TTL))
	}
	if c.DeduplicationWindow < 0 {
		errs = append(errs, fmt.Errorf("deduplication_window must not be negative, found %d", c.DeduplicationWindow))
	}
	errs = append(errs, c.TableEngine.validate())
	if c.DistributedTables && c.ClusterName == "" {
		errs = append(errs, errors.New("distributed_tables needs cluster_name: the Distributed tables spread rows over that cluster's shards"))
	}
	errs = append(errs, c.validateLanes()...)
	errs = append(errs, c.validateWAL()...)
	for key, name := range c.tableNames() {
		if name == "" {
			errs = append(errs, fmt.Errorf("%s must not be empty", key))
		}
	}
	return errors.Join(errs...)
}

func (e TableEngine) validate() error {
	for _, r := range e.Name {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return fmt.Errorf("table_engine::name must be letters only (e.g. ReplicatedMergeTree), found %q", e.Name)
		}
	}
	if e.Name == "" {
		return errors.New("table_engine::name must not be empty")
	}
	// Params are written verbatim between the parentheses; refuse what could end the clause.
	for _, r := range e.Params {
		if r == ';' || r == '(' || r == ')' || r == '\n' || r == '\r' {
			return fmt.Errorf("table_engine::params must not contain ; ( ) or newlines, found %q", e.Params)
		}
	}
	return nil
}

func (c *Config) tableNames() map[string]string {
	return map[string]string{
		"logs_table_name":                             c.LogsTableName,
		"traces_table_name":                           c.TracesTableName,
		"metrics_tables::gauge::name":                 c.MetricsTables.Gauge.Name,
		"metrics_tables::sum::name":                   c.MetricsTables.Sum.Name,
		"metrics_tables::summary::name":               c.MetricsTables.Summary.Name,
		"metrics_tables::histogram::name":             c.MetricsTables.Histogram.Name,
		"metrics_tables::exponential_histogram::name": c.MetricsTables.ExponentialHistogram.Name,
	}
}
