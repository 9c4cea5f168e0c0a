package clickhouselanesexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	full := &Config{
		Endpoint: "clickhouse://ch-a:9440,ch-b:9440", Database: "telemetry", Username: "writer", Password: "s3cret",
		TLS:         configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/ssl/ch-ca.pem"}},
		DialTimeout: 2 * time.Second, ReadTimeout: 20 * time.Second, PoolSize: 8, Compression: "zstd",
		ClientName: "sluice-edge", AsyncInsert: AsyncInsertConfig{Enabled: true, Wait: true},
		InsertTimeout: 5 * time.Second, TTL: 72 * time.Hour,
		TableEngine: TableEngine{Name: "ReplicatedMergeTree", Params: "'/clickhouse/tables/{shard}/{table}', '{replica}'"},
		ClusterName: "main", LogsTableName: "logs", TracesTableName: "spans",
		Acknowledge: AckOnEnqueue, WAL: createDefaultConfig().(*Config).WAL,
		Lanes: LanesConfig{
			Key: LaneByMetadata, KeyName: "X-Scope-OrgID", MaxLanes: 50, IdleTimeout: 10 * time.Minute,
			MaxQueueRows: 100000, MaxQueueBytes: 32 << 20, FlushRows: 50000, FlushInterval: 2 * time.Second, FlushQuiet: 5 * time.Millisecond,
			MemoryBudget: 512 << 20,
		},
		Retry:        RetryConfig{MaxAttempts: 5, InitialInterval: 50 * time.Millisecond, MaxInterval: 2 * time.Second},
		Breaker:      BreakerConfig{FailureThreshold: 3, CoolDown: 10 * time.Second, Jitter: 0.5},
		DrainTimeout: 30 * time.Second,
		Routes: []RouteConfig{
			{Name: "acme", LaneKeys: []string{"acme", "acme-staging"}, Endpoint: "tcp://ch.acme.internal:9440",
				Database: "acme_otel", Username: "acme", Password: "acme-secret",
				TLS: &configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/ssl/acme-ca.pem"}}},
			{Name: "globex", LaneKeys: []string{"globex"}, Endpoint: "tcp://ch.globex.internal:9000"},
		},
		MetricsTables: MetricsTablesConfig{
			Gauge: MetricTable{"m_gauge"}, Sum: MetricTable{"m_sum"}, Summary: MetricTable{"m_summary"},
			Histogram: MetricTable{"m_hist"}, ExponentialHistogram: MetricTable{"m_exphist"},
		},
	}
	walConfig := createDefaultConfig().(*Config)
	walConfig.Acknowledge = AckOnWAL
	walConfig.WAL = WALConfig{Directory: "/var/lib/sluice/wal", MaxBytes: 1 << 30, MaxLaneBytes: 256 << 20,
		SegmentBytes: 16 << 20, Sync: WALSyncNever, ResendWindow: 30 * time.Second}
	walConfig.Lanes.FlushRows = walFlushRows // nobody waits for a batch: on_wal's default
	walFlushRowsConfig := createDefaultConfig().(*Config)
	walFlushRowsConfig.Acknowledge = AckOnWAL
	walFlushRowsConfig.WAL.Directory = "/var/lib/sluice/wal"
	walFlushRowsConfig.Lanes.FlushRows = 5000
	for _, tc := range []struct {
		id   component.ID
		want *Config
	}{
		{component.NewID(NewFactory().Type()), createDefaultConfig().(*Config)},
		{component.NewIDWithName(NewFactory().Type(), "full"), full},
		{component.NewIDWithName(NewFactory().Type(), "wal"), walConfig},
		{component.NewIDWithName(NewFactory().Type(), "wal_flush_rows"), walFlushRowsConfig},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			require.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	require.NoError(t, confmap.Validate(createDefaultConfig()))
}

// TestInvalidConfigs checks each bad configuration is refused with a message naming the key.
func TestInvalidConfigs(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "invalid_configs.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct{ name, errorMsg string }{
		{"no_endpoint", "endpoint must be set"},
		{"http_with_password", "refusing to send the password over plain http"},
		{"http", "http is not supported"},
		{"bad_scheme", "scheme must be tcp or clickhouse"},
		{"credentials_in_url", "their own keys"},
		{"missing_port", "must be host:port"},
		{"empty_database", "database must not be empty"},
		{"zero_insert_timeout", "insert_timeout must be positive, found 0s"},
		{"zero_pool", "pool_size must be positive, found 0"},
		{"negative_ttl", "ttl must not be negative"},
		{"engine_injection", "table_engine::params must not contain"},
		{"engine_name", "table_engine::name must be letters only"},
		{"empty_table_name", "traces_table_name must not be empty"},
		{"bad_acknowledge", `acknowledge must be on_insert, on_wal or on_enqueue, found "always"`},
		{"wal_without_directory", "wal::directory must be set when acknowledge is on_wal"},
		{"wal_bad_sync", `wal::sync must be always or never, found "sometimes"`},
		{"wal_zero_max_bytes", "wal::max_bytes must be positive, found 0"},
		{"wal_lane_above_total", "wal::max_lane_bytes (2147483648) must not exceed wal::max_bytes (1073741824)"},
		{"wal_negative_resend_window", "wal::resend_window must not be negative, found -1s"},
		{"wal_segment_above_lane", "wal::segment_bytes (2097152) must not exceed wal::max_lane_bytes (1048576)"},
		{"wal_batch_above_one_part", "lanes::flush_rows must be at most 1000000 with acknowledge on_wal (one ClickHouse part per batch), found 2000000"},
		{"bad_lane_key", `lanes::key must be signal, metadata or resource_attribute, found "tenant"`},
		{"lane_key_without_name", "lanes::key_name must name the metadata key"},
		{"zero_max_lanes", "lanes::max_lanes must be positive, found 0"},
		{"flush_above_queue", "lanes::flush_rows (300000) must not exceed lanes::max_queue_rows (200000)"},
		{"queue_above_budget", "lanes::max_queue_bytes (1073741824) must not exceed lanes::memory_budget"},
		{"zero_flush_interval", "lanes::flush_interval must be positive, found 0s"},
		{"negative_flush_quiet", "lanes::flush_quiet must not be negative, found -1s"},
		{"zero_attempts", "retry::max_attempts must be positive, found 0"},
		{"bad_jitter", "breaker::jitter must be in [0, 1], found 2"},
		{"zero_drain", "drain_timeout must be positive, found 0s"},
		{"route_without_tenant_lanes", "routes need lanes::key metadata or resource_attribute"},
		{"route_without_name", "routes[0]::name must be set"},
		{"route_uppercase_name", `routes[0]::name must be lowercase`},
		{"route_default_name", `routes[0]::name "default" is used twice`},
		{"route_duplicate_key", `routes[1]::lane_keys: "a" is already routed to "one"`},
		{"route_no_keys", "routes[0]::lane_keys must list at least one lane key"},
		{"route_http_password", "routes[0]::endpoint \"http://ch:8123\": refusing to send the password over plain http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tc.name)
			require.NoError(t, err)
			// Enumerations are refused while loading, everything else by Validate.
			if err = sub.Unmarshal(cfg); err == nil {
				err = confmap.Validate(cfg)
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.errorMsg)
		})
	}
}

func TestCompressionRejectsUnknown(t *testing.T) {
	var c Compression
	err := c.UnmarshalText([]byte("gzip"))
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), `compression must be lz4, zstd or none, found "gzip"`))
}

func TestEndpointFailoverHosts(t *testing.T) {
	addrs, err := parseEndpoint("tcp://a:9000, b:9001,[::1]:9002", false)
	require.NoError(t, err)
	require.Equal(t, []string{"a:9000", "b:9001", "[::1]:9002"}, addrs)
}
