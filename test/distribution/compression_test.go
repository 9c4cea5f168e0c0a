package distribution

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
)

// TestCompressedClientsIntoClickHouse sends compressed gRPC requests to the built
// gateway from real clients: the OpenTelemetry Go SDK's exporter with gzip, and the
// collector's otlp exporter (an agent of the same distribution) with gzip and with zstd.
// The gateway takes the compressed bytes, admits them and decodes them; every span must be
// in ClickHouse, once.
func TestCompressedClientsIntoClickHouse(t *testing.T) {
	collectorBin(t)
	endpoint := chlocal.ForTest(t)
	grpcPort, httpPort, metricsPort := freePort(t), freePort(t), freePort(t)
	database := fmt.Sprintf("e2e_compressed_%d", time.Now().UnixNano())
	gatewayAddr := fmt.Sprintf("127.0.0.1:%d", grpcPort)
	startCollector(t, gatewayConfig(t, grpcPort, httpPort, metricsPort, endpoint, database),
		gatewayAddr, fmt.Sprintf("127.0.0.1:%d", httpPort))

	const spans = 300
	sendServiceSpans(t, gatewayAddr, "sdk-gzip", spans, otlptracegrpc.WithCompressor("gzip"))
	for _, compression := range []string{"gzip", "zstd"} {
		// An agent of the same distribution: the hop a platform team's agents make to their
		// gateway, through the collector's own otlp exporter.
		ports := loadbench.Ports{GRPC: freePort(t), HTTP: freePort(t), Metrics: freePort(t)}
		agentAddr := ports.GRPCAddr()
		agent := startCollector(t, loadbench.AgentConfig(ports, gatewayAddr, compression, 1000, 4),
			agentAddr, fmt.Sprintf("127.0.0.1:%d", ports.HTTP))
		sendServiceSpans(t, agentAddr, "agent-"+compression, spans)
		// The agent acknowledged on receipt; stopping it drains its queue to the gateway.
		if err := agent.Stop(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}

	ctx, conn := openClickHouse(t, endpoint)
	for _, service := range []string{"sdk-gzip", "agent-gzip", "agent-zstd"} {
		table := fmt.Sprintf("`%s`.otel_traces WHERE ServiceName = '%s'", database, service)
		waitCount(t, ctx, conn, "SELECT count() FROM "+table, spans)
		assertCount(t, ctx, conn, "SELECT uniqExact(SpanId) FROM "+table, spans)
	}
}
