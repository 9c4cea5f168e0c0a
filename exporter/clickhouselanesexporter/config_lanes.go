package clickhouselanesexporter

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
)

// Acknowledge says when a pipeline call returns: on_insert (rows committed), on_wal (rows
// fsynced in the lane's write-ahead log) or on_enqueue (rows queued in memory).
type Acknowledge string

const (
	// AckOnInsert returns once every row the call carried is committed, or with the error
	// that says why not. Nothing acknowledged can be lost.
	AckOnInsert Acknowledge = "on_insert"
	// AckOnEnqueue returns once the rows are queued in memory: a crash loses what is queued.
	AckOnEnqueue Acknowledge = "on_enqueue"
	// AckOnWAL returns once the rows are in the lane's write-ahead log and fsynced; the
	// lane's worker inserts them from the log later. A crash loses nothing acknowledged.
	AckOnWAL Acknowledge = "on_wal"
)

// UnmarshalText rejects unknown values when the configuration is loaded.
func (a *Acknowledge) UnmarshalText(text []byte) error {
	switch v := Acknowledge(text); v {
	case AckOnInsert, AckOnEnqueue, AckOnWAL:
		*a = v
		return nil
	default:
		return fmt.Errorf("acknowledge must be on_insert, on_wal or on_enqueue, found %q", text)
	}
}

// LaneKey is where a row's lane key comes from.
type LaneKey string

const (
	// LaneBySignal keeps one lane per signal (the key is the signal name).
	LaneBySignal LaneKey = "signal"
	// LaneByMetadata keys lanes by a client-metadata value (the receiver needs
	// include_metadata), such as a tenant header.
	LaneByMetadata LaneKey = "metadata"
	// LaneByResourceAttribute keys lanes by a resource attribute, such as tenant.id.
	LaneByResourceAttribute LaneKey = "resource_attribute"
)

// UnmarshalText rejects unknown values when the configuration is loaded.
func (k *LaneKey) UnmarshalText(text []byte) error {
	switch v := LaneKey(text); v {
	case LaneBySignal, LaneByMetadata, LaneByResourceAttribute:
		*k = v
		return nil
	default:
		return fmt.Errorf("lanes::key must be signal, metadata or resource_attribute, found %q", text)
	}
}

// LanesConfig shapes the lanes: how rows are split, and each lane's queue and batcher.
type LanesConfig struct {
	// Key is where the lane key comes from; KeyName names the metadata key or resource
	// attribute (required unless Key is signal).
	Key     LaneKey `mapstructure:"key"`
	KeyName string  `mapstructure:"key_name"`
	// MaxLanes caps the lanes of one signal; keys beyond it share the lane "overflow".
	// Keys named in routes always get their own lane.
	MaxLanes int `mapstructure:"max_lanes"`
	// IdleTimeout removes a lane that received nothing and holds nothing for this long.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxQueueRows and MaxQueueBytes bound one lane's queue; beyond them it refuses (429).
	MaxQueueRows  int `mapstructure:"max_queue_rows"`
	MaxQueueBytes int `mapstructure:"max_queue_bytes"`
	// FlushRows and FlushInterval: a lane inserts when this many rows are queued or its
	// oldest row has waited this long.
	FlushRows     int           `mapstructure:"flush_rows"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// FlushQuiet, with acknowledge on_insert, also flushes a lane once no rows arrived for
	// this long: its callers are waiting for the insert and send nothing more until
	// answered, so the batch cannot grow (group commit). 0 turns it off.
	FlushQuiet time.Duration `mapstructure:"flush_quiet"`
	// MemoryBudget bounds the bytes queued and being inserted across all lanes and signals
	// of this exporter, whatever the number of lanes.
	MemoryBudget int64 `mapstructure:"memory_budget"`
}

// RetryConfig bounds the attempts a lane makes for one batch (acknowledge: on_insert).
type RetryConfig struct {
	MaxAttempts     int           `mapstructure:"max_attempts"`
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
}

// BreakerConfig configures each lane's circuit breaker.
type BreakerConfig struct {
	// FailureThreshold consecutive failed insert attempts open the breaker.
	FailureThreshold int `mapstructure:"failure_threshold"`
	// CoolDown is how long an open breaker refuses before letting one probe through,
	// stretched by up to Jitter (a fraction) so lanes do not probe in lockstep.
	CoolDown time.Duration `mapstructure:"cool_down"`
	Jitter   float64       `mapstructure:"jitter"`
}

// RouteConfig sends the lanes of some keys to their own ClickHouse. An empty database takes
// the top-level one; credentials and TLS never leak from the top-level destination to
// another server (no tls section means plain TCP). Every other setting (timeouts, pool
// size, tables, schema) is the top-level one.
type RouteConfig struct {
	// Name identifies the destination in telemetry and logs.
	Name     string                  `mapstructure:"name"`
	LaneKeys []string                `mapstructure:"lane_keys"`
	Endpoint string                  `mapstructure:"endpoint"`
	Database string                  `mapstructure:"database"`
	Username string                  `mapstructure:"username"`
	Password configopaque.String     `mapstructure:"password"`
	TLS      *configtls.ClientConfig `mapstructure:"tls"`
}

// defaultDestination names the top-level ClickHouse in telemetry.
const defaultDestination = "default"

func (c *Config) validateLanes() []error {
	var errs []error
	l := c.Lanes
	if l.Key != LaneBySignal && l.KeyName == "" {
		errs = append(errs, fmt.Errorf("lanes::key_name must name the %s key when lanes::key is %s", l.Key, l.Key))
	}
	positive := []struct {
		key string
		v   int64
	}{
		{"lanes::max_lanes", int64(l.MaxLanes)}, {"lanes::max_queue_rows", int64(l.MaxQueueRows)},
		{"lanes::max_queue_bytes", int64(l.MaxQueueBytes)}, {"lanes::flush_rows", int64(l.FlushRows)},
		{"lanes::memory_budget", l.MemoryBudget}, {"retry::max_attempts", int64(c.Retry.MaxAttempts)},
		{"breaker::failure_threshold", int64(c.Breaker.FailureThreshold)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, found %d", p.key, p.v))
		}
	}
	for key, d := range map[string]time.Duration{
		"lanes::idle_timeout": l.IdleTimeout, "lanes::flush_interval": l.FlushInterval,
		"retry::initial_interval": c.Retry.InitialInterval, "retry::max_interval": c.Retry.MaxInterval,
		"breaker::cool_down": c.Breaker.CoolDown, "drain_timeout": c.DrainTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, found %s", key, d))
		}
	}
	if l.FlushRows > l.MaxQueueRows {
		errs = append(errs, fmt.Errorf("lanes::flush_rows (%d) must not exceed lanes::max_queue_rows (%d), or no batch would ever fill",
			l.FlushRows, l.MaxQueueRows))
	}
	if l.MemoryBudget > 0 && int64(l.MaxQueueBytes) > l.MemoryBudget {
		errs = append(errs, fmt.Errorf("lanes::max_queue_bytes (%d) must not exceed lanes::memory_budget (%d)",
			l.MaxQueueBytes, l.MemoryBudget))
	}
	if l.FlushQuiet < 0 {
		errs = append(errs, fmt.Errorf("lanes::flush_quiet must not be negative, found %s", l.FlushQuiet))
	}
	if c.Breaker.Jitter < 0 || c.Breaker.Jitter > 1 {
		errs = append(errs, fmt.Errorf("breaker::jitter must be in [0, 1], found %g", c.Breaker.Jitter))
	}
	return append(errs, c.validateRoutes()...)
}

func (c *Config) validateRoutes() []error {
	var errs []error
	names := map[string]bool{defaultDestination: true}
	keys := map[string]string{}
	for i, r := range c.Routes {
		at := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("%s::name must be set", at))
		case r.Name != strings.ToLower(r.Name):
			errs = append(errs, fmt.Errorf("%s::name must be lowercase (it is a metric label), found %q", at, r.Name))
		case names[r.Name]:
			errs = append(errs, fmt.Errorf("%s::name %q is used twice (%q is the top-level destination)", at, r.Name, defaultDestination))
		}
		names[r.Name] = true
		if c.Lanes.Key == LaneBySignal {
			errs = append(errs, fmt.Errorf("%s: routes need lanes::key metadata or resource_attribute; with lanes::key signal there are no tenant lanes to route", at))
		}
		if len(r.LaneKeys) == 0 {
			errs = append(errs, fmt.Errorf("%s::lane_keys must list at least one lane key", at))
		}
		for _, k := range r.LaneKeys {
			if prev, dup := keys[k]; dup {
				errs = append(errs, fmt.Errorf("%s::lane_keys: %q is already routed to %q", at, k, prev))
			}
			keys[k] = r.Name
		}
		if _, err := parseEndpoint(r.Endpoint, r.Password != ""); err != nil {
			errs = append(errs, fmt.Errorf("%s::%w", at, err))
		}
	}
	return errs
}
