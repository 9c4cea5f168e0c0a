package clickhouselanesexporter

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadatatest"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestOutageLosesNothingAcknowledged kills ClickHouse while four clients stream logs, and
// restarts it on the same data directory. The clients retry refused requests after the
// hint, as the collector's exporters do. Every acknowledged row must be in ClickHouse
// exactly once: count and distinct count both equal the rows acknowledged — including the
// batch whose insert the kill interrupted, which the lane settles by sending it again
// unchanged while its callers wait.
func TestOutageLosesNothingAcknowledged(t *testing.T) {
	srv := chlocal.StartForTest(t)
	cfg := testConfig(t, srv.Endpoint())
	cfg.InsertTimeout = 10 * time.Second
	cfg.DialTimeout = time.Second
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 50 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: 500 * time.Millisecond}
	exp, tel := startLogsExporter(t, cfg)

	const clients, requests, rowsPer = 4, 25, 20
	var acknowledged atomic.Int64
	refused := make(chan struct{}, 1) // a client saw the outage
	halfway := make(chan struct{})    // enough was acknowledged before the kill
	var halfwayOnce sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				ld := plog.NewLogs()
				lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
				for i := range rowsPer {
					rec := lr.AppendEmpty()
					rec.SetTimestamp(1_764_000_000_000_000_000)
					rec.Body().SetStr(fmt.Sprintf("client %d request %d row %d", c, r, i))
				}
				if err := sendUntilAccepted(ctx, exp.ConsumeLogs, ld, refused); err != nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
				if acknowledged.Add(rowsPer) >= clients*requests*rowsPer/3 {
					halfwayOnce.Do(func() { close(halfway) })
				}
			}
		}()
	}

	select {
	case <-halfway:
	case <-ctx.Done():
		t.Fatal("clients never got a third of the way")
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// The lane's breaker opening is the sign that the exporter has met the outage: an
	// insert in flight failed with an unknown outcome (its callers then wait while the lane
	// settles it), or the next one could not connect (its callers get 503 and retry).
	require.Eventually(t, func() bool { return breakerOpened(tel) }, time.Minute, 10*time.Millisecond,
		"the lane never noticed the outage")
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	var count, distinct uint64
	q := fmt.Sprintf("SELECT count(), uniqExact(Body) FROM %s", quotedTable(cfg.Database, cfg.LogsTableName))
	if err := openDB(t, srv.Endpoint()).QueryRow(clickhouse.Context(context.Background()), q).Scan(&count, &distinct); err != nil {
		t.Fatal(err)
	}
	if want := uint64(acknowledged.Load()); count != want || distinct != want {
		t.Fatalf("acknowledged %d rows; ClickHouse has %d rows, %d distinct", want, count, distinct)
	}
}

// sendUntilAccepted is a retrying client: on a retryable refusal it signals refused (once)
// and waits for the hint before trying again. Permanent errors end it.
func sendUntilAccepted(ctx context.Context, consume func(context.Context, plog.Logs) error, ld plog.Logs, refused chan<- struct{}) error {
	for {
		err := consume(ctx, ld)
		if err == nil {
			return nil
		}
		st, ok := status.FromError(err)
		hint, hasHint := backpressure.RetryDelay(st)
		if !ok || !hasHint || consumererror.IsPermanent(err) {
			return fmt.Errorf("not a retryable refusal: %w", err)
		}
		select {
		case refused <- struct{}{}:
		default:
		}
		if !sleepCtx(ctx, hint) {
			return ctx.Err()
		}
	}
}

// TestIdleLanesAreRemoved: a tenant lane with nothing to do goes away after idle_timeout,
// and the tenant's next request gets a fresh lane.
func TestIdleLanesAreRemoved(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	cfg.Lanes.IdleTimeout = 500 * time.Millisecond
	exp, tel := startLogsExporter(t, cfg)
	lanes := func() int64 {
		m, err := tel.GetMetric("otelcol_sluice_exporter_lanes_active")
		require.NoError(t, err)
		return m.Data.(metricdata.Sum[int64]).DataPoints[0].Value
	}
	for _, tenant := range []string{"x", "y"} {
		require.NoError(t, exp.ConsumeLogs(tenantCtx(tenant), tenantLogs(tenant, 1)))
	}
	require.Positive(t, lanes()) // a lane lives at least one idle_timeout after its last use
	require.Eventually(t, func() bool { return lanes() == 0 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, exp.ConsumeLogs(tenantCtx("x"), tenantLogs("x", 1)))
	require.Positive(t, lanes())
	metadatatest.AssertEqualSluiceExporterRowsInserted(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: laneTable("x", cfg.LogsTableName)},
		{Value: 1, Attributes: laneTable("y", cfg.LogsTableName)},
	}, metricdatatestIgnoreTime...)
}

func laneTable(lane, table string) attribute.Set {
	return attribute.NewSet(attribute.String("destination", "default"), attribute.String("lane", lane),
		attribute.String("signal", "logs"), attribute.String("table", table))
}

// breakerOpened reports whether any lane's breaker has opened (safe to poll from any
// goroutine: it fails nothing).
func breakerOpened(tel *componenttest.Telemetry) bool {
	m, err := tel.GetMetric("otelcol_sluice_exporter_breaker_transitions")
	if err != nil {
		return false // not recorded yet
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if s, _ := dp.Attributes.Value("state"); s.AsString() == "open" && dp.Value > 0 {
			return true
		}
	}
	return false
}
