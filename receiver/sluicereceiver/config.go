package sluicereceiver // import "github.com/sluicehq/sluice/receiver/sluicereceiver"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
)

// Config is the configuration of the sluice receiver.
type Config struct {
	Protocols Protocols       `mapstructure:"protocols"`
	Admission AdmissionConfig `mapstructure:"admission"`
	// ShutdownTimeout bounds how long Shutdown waits for requests in flight before it closes
	// their connections.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// Protocols selects the transports; at least one must be enabled.
type Protocols struct {
	GRPC configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"grpc"`
	HTTP configoptional.Optional[HTTPConfig]              `mapstructure:"http"`
}

// HTTPConfig is the OTLP/HTTP server with its per-signal paths.
type HTTPConfig struct {
	ServerConfig   confighttp.ServerConfig `mapstructure:",squash"`
	TracesURLPath  string                  `mapstructure:"traces_url_path"`
	MetricsURLPath string                  `mapstructure:"metrics_url_path"`
	LogsURLPath    string                  `mapstructure:"logs_url_path"`
	// BodyReadTimeout bounds the time a request may take to deliver its body once its
	// headers are read; a slower one is answered 408 and its connection closed.
	BodyReadTimeout time.Duration `mapstructure:"body_read_timeout"`
}

// AdmissionConfig bounds what the receiver holds at once: HTTP bodies count against
// max_inflight_bytes as they arrive, and take a request slot once read (see README, Memory).
type AdmissionConfig struct {
	// MaxInflightRequests caps requests admitted at once (0 disables the count limit).
	MaxInflightRequests int `mapstructure:"max_inflight_requests"`
	// MaxInflightBytes caps the decoded size of requests admitted at once (0 disables).
	MaxInflightBytes int64 `mapstructure:"max_inflight_bytes"`
	// MaxWaitingRequests is how many requests may queue for admission; beyond it, refuse.
	MaxWaitingRequests int `mapstructure:"max_waiting_requests"`
	// MaxWait is how long a request may wait for admission before it is refused.
	MaxWait time.Duration `mapstructure:"max_wait"`
	// RetryAfter is the hint sent with refusals (whole seconds, at least 1s).
	RetryAfter time.Duration `mapstructure:"retry_after"`
	// Tenant enables per-tenant shares of the limits above.
	Tenant TenantConfig `mapstructure:"tenant"`
}

// TenantConfig names the client metadata key that identifies a tenant and what one tenant
// may hold. The key is read from client metadata, so the transports need
// include_metadata: true.
type TenantConfig struct {
	// MetadataKey is the client metadata key, e.g. X-Scope-OrgID ("" disables tenants).
	MetadataKey string `mapstructure:"metadata_key"`
	// MaxShare is the fraction (0, 1] of max_inflight_requests and max_inflight_bytes one
	// tenant may hold while others want in; 1 means no share limit.
	MaxShare float64 `mapstructure:"max_share"`
	// MaxTenants caps the tenants tracked separately; beyond it they share one bucket.
	MaxTenants int `mapstructure:"max_tenants"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; errors name the YAML key and the bad value.
func (c *Config) Validate() error {
	var errs []error
	if !c.Protocols.GRPC.HasValue() && !c.Protocols.HTTP.HasValue() {
		errs = append(errs, errors.New("protocols: enable at least one of grpc or http"))
	}
	a := c.Admission
	if a.MaxInflightRequests < 0 {
		errs = append(errs, fmt.Errorf("admission.max_inflight_requests must not be negative, found %d", a.MaxInflightRequests))
	}
	if a.MaxInflightBytes < 0 {
		errs = append(errs, fmt.Errorf("admission.max_inflight_bytes must not be negative, found %d", a.MaxInflightBytes))
	}
	if a.MaxWaitingRequests < 0 {
		errs = append(errs, fmt.Errorf("admission.max_waiting_requests must not be negative, found %d", a.MaxWaitingRequests))
	}
	if a.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("admission.max_wait must not be negative, found %s", a.MaxWait))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout must be positive, found %s", c.ShutdownTimeout))
	}
	if a.RetryAfter < time.Second || a.RetryAfter%time.Second != 0 {
		errs = append(errs, fmt.Errorf("admission.retry_after must be whole seconds and at least 1s, found %s", a.RetryAfter))
	}
	errs = append(errs, c.validatePaths()...)
	errs = append(errs, c.validateTenant()...)
	return errors.Join(errs...)
}

func (c *Config) validatePaths() []error {
	if !c.Protocols.HTTP.HasValue() {
		return nil
	}
	h := c.Protocols.HTTP.Get()
	var errs []error
	if h.BodyReadTimeout <= 0 {
		errs = append(errs, fmt.Errorf("protocols.http.body_read_timeout must be positive, found %s", h.BodyReadTimeout))
	}
	for key, p := range map[string]string{"traces_url_path": h.TracesURLPath, "metrics_url_path": h.MetricsURLPath, "logs_url_path": h.LogsURLPath} {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("protocols.http.%s must start with /, found %q", key, p))
		}
	}
	if h.TracesURLPath == h.MetricsURLPath || h.TracesURLPath == h.LogsURLPath || h.MetricsURLPath == h.LogsURLPath {
		errs = append(errs, fmt.Errorf("protocols.http paths must differ, found %q, %q, %q", h.TracesURLPath, h.MetricsURLPath, h.LogsURLPath))
	}
	return errs
}

func (c *Config) validateTenant() []error {
	t := c.Admission.Tenant
	var errs []error
	if t.MetadataKey == "" {
		return nil
	}
	if t.MaxShare <= 0 || t.MaxShare > 1 {
		errs = append(errs, fmt.Errorf("admission.tenant.max_share must be in (0, 1], found %v", t.MaxShare))
	}
	if t.MaxTenants < 1 {
		errs = append(errs, fmt.Errorf("admission.tenant.max_tenants must be at least 1, found %d", t.MaxTenants))
	}
	grpcMeta := c.Protocols.GRPC.HasValue() && c.Protocols.GRPC.Get().IncludeMetadata
	httpMeta := c.Protocols.HTTP.HasValue() && c.Protocols.HTTP.Get().ServerConfig.IncludeMetadata
	if !grpcMeta && !httpMeta {
		errs = append(errs, fmt.Errorf("admission.tenant.metadata_key %q needs include_metadata: true on grpc or http", t.MetadataKey))
	}
	return errs
}
