package sluicereceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

func loadConfig(t *testing.T, file, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", file))
	require.NoError(t, err)
	sub, err := cm.Sub(name)
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, confmap.Validate(cfg)
}

// Like the core otlp receiver, no transport is on until the YAML names one; once named,
// the defaults validate.
func TestDefaultConfigIsValidOnceAProtocolIsEnabled(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.ErrorContains(t, confmap.Validate(cfg), "enable at least one of grpc or http")
	cfg.Protocols.GRPC.GetOrInsertDefault()
	cfg.Protocols.HTTP.GetOrInsertDefault()
	require.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfig(t *testing.T) {
	def := createDefaultConfig().(*Config)
	def.Protocols.GRPC.GetOrInsertDefault()
	def.Protocols.HTTP.GetOrInsertDefault()

	custom := createDefaultConfig().(*Config)
	grpc := custom.Protocols.GRPC.GetOrInsertDefault()
	grpc.NetAddr.Endpoint = "0.0.0.0:5317"
	grpc.IncludeMetadata = true
	http := custom.Protocols.HTTP.GetOrInsertDefault()
	http.ServerConfig.NetAddr.Endpoint = "0.0.0.0:5318"
	http.ServerConfig.IncludeMetadata = true
	http.ServerConfig.MaxRequestBodySize = 4 << 20
	http.TracesURLPath, http.MetricsURLPath, http.LogsURLPath = "/otlp/traces", "/otlp/metrics", "/otlp/logs"
	http.BodyReadTimeout = 5 * time.Second
	custom.Admission = AdmissionConfig{
		MaxInflightRequests: 16,
		MaxInflightBytes:    64 << 20,
		MaxWaitingRequests:  32,
		MaxWait:             250 * time.Millisecond,
		RetryAfter:          3 * time.Second,
		Tenant:              TenantConfig{MetadataKey: "X-Scope-OrgID", MaxShare: 0.25, MaxTenants: 50},
	}
	custom.ShutdownTimeout = 2 * time.Second

	grpcOnly := createDefaultConfig().(*Config)
	grpcOnly.Protocols.GRPC.GetOrInsertDefault()

	for _, tt := range []struct {
		id   component.ID
		want *Config
	}{
		{component.NewID(metadata.Type), def},
		{component.NewIDWithName(metadata.Type, "custom"), custom},
		{component.NewIDWithName(metadata.Type, "grpc_only"), grpcOnly},
	} {
		t.Run(tt.id.String(), func(t *testing.T) {
			got, err := loadConfig(t, "config.yaml", tt.id.String())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, tt := range []struct{ name, errorMsg string }{
		{"no_protocols", "protocols: enable at least one of grpc or http"},
		{"negative_inflight_requests", "admission.max_inflight_requests must not be negative, found -1"},
		{"negative_inflight_bytes", "admission.max_inflight_bytes must not be negative, found -5"},
		{"negative_waiting", "admission.max_waiting_requests must not be negative, found -1"},
		{"negative_wait", "admission.max_wait must not be negative, found -1s"},
		{"retry_after_below_one_second", "admission.retry_after must be whole seconds and at least 1s, found 500ms"},
		{"retry_after_not_whole_seconds", "admission.retry_after must be whole seconds and at least 1s, found 1.5s"},
		{"tenant_share_too_big", "admission.tenant.max_share must be in (0, 1], found 1.5"},
		{"tenant_without_metadata", `admission.tenant.metadata_key "X-Scope-OrgID" needs include_metadata: true on grpc or http`},
		{"tenant_cap_zero", "admission.tenant.max_tenants must be at least 1, found 0"},
		{"relative_path", `protocols.http.traces_url_path must start with /, found "v1/traces"`},
		{"same_paths", "protocols.http paths must differ"},
		{"shutdown_timeout_zero", "shutdown_timeout must be positive, found 0s"},
		{"body_read_timeout_zero", "protocols.http.body_read_timeout must be positive, found 0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, "invalid_configs.yaml", tt.name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errorMsg)
		})
	}
}
