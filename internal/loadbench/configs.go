package loadbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Ports of one collector.
type Ports struct {
	GRPC, HTTP, Metrics int
}

// NewPorts picks three free loopback ports.
func NewPorts() (Ports, error) {
	var p Ports
	for _, dst := range []*int{&p.GRPC, &p.HTTP, &p.Metrics} {
		port, err := FreePort()
		if err != nil {
			return p, err
		}
		*dst = port
	}
	return p, nil
}

// GRPCAddr is the collector's OTLP/gRPC address.
func (p Ports) GRPCAddr() string { return fmt.Sprintf("127.0.0.1:%d", p.GRPC) }

// HTTPURL is the collector's OTLP/HTTP base URL.
func (p Ports) HTTPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.HTTP) }

// Gateway describes a gateway pipeline writing into ClickHouse.
type Gateway struct {
	Ports    Ports
	Endpoint string // ClickHouse native endpoint
	Database string

	// Sluice only.
	MaxInflightRequests int
	MaxInflightBytes    int64
	// TenantKey turns on tenant shares in admission (max_share TenantShare) and, with Lanes,
	// lanes keyed by that metadata.
	TenantKey   string
	TenantShare float64
	// Lanes writes the exporter's lanes keys (only once the exporter has them).
	Lanes        bool
	MemoryBudget int64
	// Acknowledge is on_insert (default), on_enqueue or on_wal; needs Lanes.
	Acknowledge string
	// WALDirectory and WALMaxBytes configure the lanes' write-ahead log (with on_wal).
	WALDirectory string
	WALMaxBytes  int64
	// FlushRows and FlushInterval of every lane (0: the exporter's defaults); needs Lanes.
	// With on_insert a request waits for its batch, so a lane's flush_interval bounds the
	// latency of clients that cannot fill flush_rows on their own.
	FlushRows     int
	FlushInterval time.Duration
}

func telemetry(port int) string {
	return fmt.Sprintf(`
  telemetry:
    logs:
      level: warn
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, port)
}

// SluiceConfig is the otelcol-sluice gateway: sluice receiver → clickhouselanes.
func SluiceConfig(g Gateway) string {
	var b strings.Builder
	fmt.Fprintf(&b, `receivers:
  sluice:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        include_metadata: true
      http:
        endpoint: 127.0.0.1:%d
        include_metadata: true
    admission:
`, g.Ports.GRPC, g.Ports.HTTP)
	if g.MaxInflightRequests > 0 {
		fmt.Fprintf(&b, "      max_inflight_requests: %d\n", g.MaxInflightRequests)
	}
	if g.MaxInflightBytes > 0 {
		fmt.Fprintf(&b, "      max_inflight_bytes: %d\n", g.MaxInflightBytes)
	}
	b.WriteString("      retry_after: 1s\n")
	if g.TenantKey != "" {
		share := g.TenantShare
		if share <= 0 {
			share = 0.5
		}
		fmt.Fprintf(&b, "      tenant:\n        metadata_key: %s\n        max_share: %g\n", g.TenantKey, share)
	}
	fmt.Fprintf(&b, `exporters:
  clickhouselanes:
    endpoint: %s
    database: %s
    create_schema: true
`, g.Endpoint, g.Database)
	if g.Lanes {
		if g.Acknowledge != "" {
			fmt.Fprintf(&b, "    acknowledge: %s\n", g.Acknowledge)
		}
		if g.WALDirectory != "" {
			fmt.Fprintf(&b, "    wal:\n      directory: %s\n", g.WALDirectory)
			if g.WALMaxBytes > 0 {
				// One lane may use the whole budget; segments small enough that committing
				// frees the budget in steps.
				fmt.Fprintf(&b, "      max_bytes: %d\n      max_lane_bytes: %d\n      segment_bytes: %d\n",
					g.WALMaxBytes, g.WALMaxBytes, min(64<<20, g.WALMaxBytes/8))
			}
		}
		b.WriteString("    lanes:\n")
		if g.TenantKey != "" {
			fmt.Fprintf(&b, "      key: metadata\n      key_name: %s\n", g.TenantKey)
		}
		if g.MemoryBudget > 0 {
			fmt.Fprintf(&b, "      memory_budget: %d\n", g.MemoryBudget)
		}
		if g.FlushRows > 0 {
			fmt.Fprintf(&b, "      flush_rows: %d\n", g.FlushRows)
		}
		if g.FlushInterval > 0 {
			fmt.Fprintf(&b, "      flush_interval: %s\n", g.FlushInterval)
		}
	}
	b.WriteString(`service:
  pipelines:
    traces:
      receivers: [sluice]
      exporters: [clickhouselanes]
    logs:
      receivers: [sluice]
      exporters: [clickhouselanes]
`)
	b.WriteString(telemetry(g.Ports.Metrics))
	return b.String()
}

// UpstreamConfig is the stock pipeline: core otlp receiver → batch → contrib clickhouse.
func UpstreamConfig(g Gateway) string {
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch: {}
exporters:
  clickhouse:
    endpoint: %s
    database: %s
    create_schema: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [clickhouse]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [clickhouse]
`, g.Ports.GRPC, g.Ports.HTTP, g.Endpoint, g.Database) + telemetry(g.Ports.Metrics)
}

// AgentConfig is an otelcol-sluice acting as an agent: sluice receiver (so a full sending
// queue is answered with a retry hint) → core otlp exporter with retry and sending queue →
// the gateway at gatewayAddr, with the exporter's compression ("": its default, gzip).
func AgentConfig(p Ports, gatewayAddr, compression string, queueSize, consumers int) string {
	if compression == "" {
		compression = "gzip"
	}
	return fmt.Sprintf(`receivers:
  sluice:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
exporters:
  otlp:
    endpoint: %s
    compression: %s
    tls:
      insecure: true
    retry_on_failure:
      enabled: true
      initial_interval: 200ms
      max_interval: 5s
      max_elapsed_time: 0
    sending_queue:
      enabled: true
      num_consumers: %d
      queue_size: %d
service:
  pipelines:
    traces:
      receivers: [sluice]
      exporters: [otlp]
    logs:
      receivers: [sluice]
      exporters: [otlp]
`, p.GRPC, p.HTTP, gatewayAddr, compression, consumers, queueSize) + telemetry(p.Metrics)
}

// SupportsLanes reports whether bin's clickhouselanes exporter accepts the lanes keys.
func SupportsLanes(bin string) bool {
	dir, err := os.MkdirTemp("", "sluice-lanes-probe")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	cfg := SluiceConfig(Gateway{Endpoint: "tcp://127.0.0.1:9000", Database: "probe", Lanes: true,
		MemoryBudget: 64 << 20, Acknowledge: "on_insert", Ports: Ports{GRPC: 1, HTTP: 2, Metrics: 3}})
	path := filepath.Join(dir, "probe.yaml")
	if os.WriteFile(path, []byte(cfg), 0o600) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, bin, "validate", "--config", path).Run() == nil
}
