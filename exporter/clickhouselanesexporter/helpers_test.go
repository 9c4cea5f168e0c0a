package clickhouselanesexporter

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/chlocal"
)

var dbSeq atomic.Int64

// testConfig points a default config at endpoint with a database of its own, so tests sharing
// an external server stay independent.
func testConfig(t *testing.T, endpoint string) *Config {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	addr := strings.TrimPrefix(endpoint, "tcp://")
	if i := strings.LastIndex(addr, "@"); i >= 0 {
		t.Skip("endpoint with credentials not supported by these tests")
	}
	cfg.Endpoint = "tcp://" + addr
	cfg.Database = fmt.Sprintf("sluice_test_%d_%d", time.Now().UnixNano()%1e9, dbSeq.Add(1))
	cfg.InsertTimeout = 30 * time.Second            // the race detector slows the first insert
	cfg.Lanes.FlushInterval = 20 * time.Millisecond // tests wait for their own rows
	return cfg
}

// startComponent starts c and stops it at cleanup.
func startComponent(t *testing.T, c component.Component) {
	t.Helper()
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

func nopSettings() exporter.Settings { return exportertest.NewNopSettings(NewFactory().Type()) }

// openDB connects for reading rows back; reads use the server's defaults.
func openDB(t *testing.T, endpoint string) driver.Conn {
	t.Helper()
	conn, err := chlocal.Open(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func countRows(t *testing.T, conn driver.Conn, db, table string) uint64 {
	t.Helper()
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM %s", quotedTable(db, table))
	if err := conn.QueryRow(clickhouse.Context(context.Background()), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// requireRetryable checks err is a transient gRPC status of code carrying a RetryInfo hint.
func requireRetryable(t *testing.T, err error, code codes.Code) time.Duration {
	t.Helper()
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != code || consumererror.IsPermanent(err) {
		t.Fatalf("want a retryable %s status, got %v", code, err)
	}
	d, ok := backpressure.RetryDelay(st)
	if !ok || d <= 0 {
		t.Fatalf("%s without a RetryInfo hint: %v", code, err)
	}
	return d
}

// consumeRetrying calls consume like a well-behaved client: on a retryable refusal it waits
// for the hint and tries again, a bounded number of times.
func consumeRetrying(t *testing.T, consume func() error) error {
	t.Helper()
	var err error
	for range 30 {
		err = consume()
		st, ok := status.FromError(err)
		if err == nil || !ok || consumererror.IsPermanent(err) {
			return err
		}
		d, ok := backpressure.RetryDelay(st)
		if !ok {
			return err
		}
		time.Sleep(d) // the server's own hint: this is the client's pacing, not synchronisation
	}
	return err
}
