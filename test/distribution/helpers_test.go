package distribution

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/sluicehq/sluice/internal/chlocal"
)

func serviceResource(name string) *resource.Resource {
	return resource.NewSchemaless(semconv.ServiceName(name))
}

func nowTimestamp() pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(time.Now())
}

// openClickHouse connects to the test's ClickHouse, closed at cleanup, with a context of a
// minute for the test's queries.
func openClickHouse(t *testing.T, endpoint string) (context.Context, driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	conn, err := chlocal.Open(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ctx, conn
}

// waitCount polls query until it returns want, and fails if ctx ends first or the count
// passes want.
func waitCount(t *testing.T, ctx context.Context, conn driver.Conn, query string, want uint64) {
	t.Helper()
	for {
		var got uint64
		if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		switch {
		case got == want:
			return
		case got > want:
			t.Fatalf("%s = %d, want %d", query, got, want)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s = %d, want %d: %v", query, got, want, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func assertCount(t *testing.T, ctx context.Context, conn driver.Conn, query string, want uint64) {
	t.Helper()
	var got uint64
	if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if got != want {
		t.Errorf("%s = %d, want %d", query, got, want)
	}
}
