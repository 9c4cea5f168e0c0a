package clickhouselanesexporter

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluicehq/sluice/internal/loadbench"
)

// gatewayConfig is an otelcol-sluice gateway: OTLP/HTTP logs into the cluster's Distributed
// tables, trying the nodes in the order given.
func gatewayConfig(httpPort int, endpoint, database, cluster string) string {
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
`, httpPort, endpoint, database, cluster)
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
	var urls []string
	var gateways []*loadbench.Collector
	for i, endpoint := range []string{eps[0] + "," + eps[1][len("tcp://"):], eps[1] + "," + eps[0][len("tcp://"):]} {
		port, err := loadbench.FreePort()
		require.NoError(t, err)
		name := "gateway" + strconv.Itoa(i+1)
		gw, err := loadbench.StartCollector(bin, name, t.TempDir(), gatewayConfig(port, endpoint, cfg.Database, c.Name()), 0)
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

	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	const clients, requests, rowsPer = 4, 25, 20
	var acknowledged, moved atomic.Int64
	halfway := make(chan struct{})
	var halfwayOnce sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			gw := cl % len(urls) // half the clients start on each gateway
			for r := range requests {
				ld := plog.NewLogs()
				lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
				for i := range rowsPer {
					rec := lr.AppendEmpty()
					rec.SetTimestamp(1_764_000_000_000_000_000)
					rec.Body().SetStr(fmt.Sprintf("client %d request %d row %d", cl, r, i))
				}
				body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
				if err != nil {
					t.Error(err)
					return
				}
				for !postLogs(ctx, client, urls[gw], body) {
					if ctx.Err() != nil {
						t.Errorf("client %d: gave up: %v", cl, ctx.Err())
						return
					}
					gw = (gw + 1) % len(urls)
					moved.Add(1)
				}
				if acknowledged.Add(rowsPer) >= clients*requests*rowsPer/3 {
					halfwayOnce.Do(func() { close(halfway) })
				}
			}
		})
	}
	select {
	case <-halfway:
	case <-ctx.Done():
		t.Fatal("clients never got a third of the way")
	}
	gateways[0].Kill()
	wg.Wait()

	var count, distinct uint64
	q := "SELECT count(), uniqExact(Body) FROM " + quotedTable(cfg.Database, cfg.LogsTableName)
	require.NoError(t, openDB(t, eps[1]).QueryRow(ctx, q).Scan(&count, &distinct))
	want := uint64(clients * requests * rowsPer)
	require.Equal(t, want, uint64(acknowledged.Load()))
	t.Logf("acknowledged %d rows (requests moved to the other gateway %d times); the cluster has %d rows, %d distinct",
		want, moved.Load(), count, distinct)
	require.Equal(t, want, distinct, "acknowledged rows lost")
	require.Positive(t, moved.Load(), "no client ever met the killed gateway")
	// Requests in flight at the killed gateway may have been committed without an answer;
	// their clients send them again through the other gateway, in another batch under
	// another token: at least once, so no more than those requests may be doubled.
	require.LessOrEqual(t, count-distinct, uint64(clients*rowsPer), "more duplicates than requests in flight")
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
