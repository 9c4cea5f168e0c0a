package clickhouselanesexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestShutdownWhileClickHouseIsFrozen (issue 13 §4, the exporter's side): with ClickHouse
// frozen (connections open, nothing answered), a caller waits for its on_insert batch, whose
// insert times out with an unknown outcome, so the lane keeps settling it while the caller
// waits. Shutdown still ends: after drain_timeout it cancels the inserts, and the caller is
// answered with a retryable 503 instead of hanging.
func TestShutdownWhileClickHouseIsFrozen(t *testing.T) {
	srv := chlocal.StartForTest(t)
	cfg := testConfig(t, srv.Endpoint())
	cfg.InsertTimeout, cfg.DrainTimeout = 300*time.Millisecond, 300*time.Millisecond
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	exp, tel := newLogsExporter(t, cfg)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("before the freeze", 2))) // connected, schema made
	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	answered := make(chan error, 1)
	go func() { answered <- exp.ConsumeLogs(context.Background(), uniqueLogs("frozen", 2)) }()
	// Two failed attempts of the caller's batch open the breaker: the call is in the lane.
	require.Eventually(t, func() bool { return breakerOpened(tel) }, time.Minute, time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()), "nothing acknowledged was lost")
	requireRetryable(t, <-answered, codes.Unavailable)
}
