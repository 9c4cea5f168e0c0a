package clickhouselanesexporter

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
)

// gatewayConfig is an otelcol-sluice gateway: OTLP/HTTP logs into the cluster's Distributed
// tables, trying the nodes in the order given.
func gatewayConfig(httpPort int, endpoint, database, cluster string) string {
	return gatewayConfigDedup(httpPort, endpoint, database, cluster, true)
}

func gatewayConfigDedup(httpPort int, endpoint, database, cluster string, dedup bool) string {
	return fmt.Sprintf(`receivers:
  sluice:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  clickhouselanes:
    endpoint: %s
    database: %s
    create_schema: false
    cluster_name: %s
    distributed_tables: true
    deduplicate: %v
service:
  pipelines:
    logs:
      receivers: [sluice]
      exporters: [clickhouselanes]
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
`, httpPort, endpoint, database, cluster, dedup)
}

// TestTwoGatewaysOneClusterOneKilled runs two built otelcol-sluice gateways in front of a
// two-shard cluster, with retrying clients that move to the other gateway when one refuses
// or does not answer (what a load balancer does for them). One gateway is killed (SIGKILL)
// a third of the way through. Every acknowledged row must be in the cluster. Needs the
// distribution: `make distribution-test` sets SLUICE_COLLECTOR_BIN.
func TestTwoGatewaysOneClusterOneKilled(t *testing.T) {
	bin := os.Getenv("SLUICE_COLLECTOR_BIN")
	if bin == "" {
		t.Skip("SLUICE_COLLECTOR_BIN is not set; run `make distribution-test`")
	}
	t.Parallel()
	c, cfg := distributedCluster(t)
	eps := c.Endpoints()
	gateways, urls := startGateways(t, bin, c, cfg, 2, true)

	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var moved atomic.Int64
	gw := []int{0, 1, 0, 1} // each client's gateway: half start on each
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	wait := streamLogs(t, ctx, func(ctx context.Context, client int, ld plog.Logs) error {
		body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		if err != nil {
			return err
		}
		for !postLogs(ctx, httpClient, urls[gw[client]], body) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			gw[client] = (gw[client] + 1) % len(urls)
			moved.Add(1)
		}
		return nil
	})
	gateways[0].Kill()
	acknowledged := wait()

	count, distinct := countLogs(t, ctx, eps[1], cfg)
	want := uint64(streamClients * streamRequests * streamRowsPer)
	require.Equal(t, want, uint64(acknowledged))
	t.Logf("acknowledged %d rows (requests moved to the other gateway %d times); the cluster has %d rows, %d distinct",
		want, moved.Load(), count, distinct)
	require.Equal(t, want, distinct, "acknowledged rows lost")
	require.Positive(t, moved.Load(), "no client ever met the killed gateway")
	// Requests in flight at the killed gateway may have been committed without an answer;
	// their clients send them again through the other gateway, in another batch under
	// another token: at least once, so no more than those requests may be doubled.
	require.LessOrEqual(t, count-distinct, uint64(streamClients*streamRowsPer), "more duplicates than requests in flight")
}

// postLogs sends one OTLP/HTTP request and reports whether the gateway acknowledged it. A
// refusal waits for the gateway's hint first, as an OTLP exporter would.
func postLogs(ctx context.Context, client *http.Client, url string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := client.Do(req)
	if err != nil {
		return false // connection refused or reset: the gateway is gone
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return true
	}
	if d, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		sleepCtx(ctx, time.Duration(d)*time.Second)
	}
	return false
}

// startGateways starts n gateways writing into c's Distributed tables (gateway i tries node
// i first) and returns them with their OTLP/HTTP logs URLs.
func startGateways(t testing.TB, bin string, c *chlocal.Cluster, cfg *Config, n int, dedup bool) ([]*loadbench.Collector, []string) {
	eps := c.Endpoints()
	var gateways []*loadbench.Collector
	var urls []string
	for i := range n {
		endpoint := eps[i%len(eps)]
		for j := 1; j < len(eps); j++ {
			endpoint += "," + strings.TrimPrefix(eps[(i+j)%len(eps)], "tcp://")
		}
		port, err := loadbench.FreePort()
		require.NoError(t, err)
		name := "gateway" + strconv.Itoa(i+1)
		config := gatewayConfigDedup(port, endpoint, cfg.Database, c.Name(), dedup)
		gw, err := loadbench.StartCollector(bin, name, t.TempDir(), config, 0)
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = gw.Stop(30 * time.Second)
			if t.Failed() {
				t.Logf("%s output:\n%s", name, gw.Output())
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		require.NoError(t, gw.WaitListening(ctx, fmt.Sprintf("127.0.0.1:%d", port)))
		cancel()
		gateways = append(gateways, gw)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d/v1/logs", port))
	}
	return gateways, urls
}

// BenchmarkGatewaysOnCluster measures logs throughput into a two-shard cluster through one
// and through two built gateways (8 senders posting 1000-row OTLP/HTTP requests flat out,
// alternating between the gateways). Everything shares this machine's cores: the senders,
// the gateways and both ClickHouse nodes.
//
//	SLUICE_COLLECTOR_BIN=$PWD/_build/otelcol-sluice/otelcol-sluice \
//	  go test -run '^$' -bench BenchmarkGatewaysOnCluster -benchtime 400x ./exporter/clickhouselanesexporter
func BenchmarkGatewaysOnCluster(b *testing.B) {
	bin := os.Getenv("SLUICE_COLLECTOR_BIN")
	if bin == "" {
		b.Skip("SLUICE_COLLECTOR_BIN is not set")
	}
	c := chlocal.StartClusterForTest(b, chlocal.ClusterOptions{Name: "otel_cluster"})
	const rowsPer = 1000
	body, err := plogotlp.NewExportRequestFromLogs(benchLogs(rowsPer)).MarshalProto()
	require.NoError(b, err)
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("gateways=%d", n), func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			cfg.Database = fmt.Sprintf("bench_gw%d_%d", n, time.Now().UnixNano())
			cfg.ClusterName, cfg.DistributedTables = c.Name(), true
			createPerNode(b, c, cfg)
			// Every request is the same rows: with tokens the server would drop most unwritten.
			_, urls := startGateways(b, bin, c, cfg, n, false)
			transport := http.DefaultTransport.(*http.Transport).Clone()
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport, Timeout: time.Minute}
			var next, refused atomic.Uint64
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					for !postLogs(context.Background(), client, urls[next.Add(1)%uint64(len(urls))], body) {
						refused.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N*rowsPer)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refusals/op")
		})
	}
}
