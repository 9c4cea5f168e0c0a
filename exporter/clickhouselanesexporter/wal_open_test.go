package clickhouselanesexporter

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
)

// onWALByTenant is a scripted on_wal exporter config with lanes by X-Scope-OrgID, whose
// lanes' logs call opening (on the opening caller's goroutine) before they are opened.
func onWALByTenant(t *testing.T, opening func(lane string)) *Config {
	cfg, _ := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse { return newScripted(cfg) })
	cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, t.TempDir(), WALSyncNever
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	newExporterHooks.openingLog = opening
	return cfg
}

// A new lane opens its log (recovery scan, resend hashing: seconds for a large log) outside
// the exporter's mutex: while tenant "slow"'s log is opening, tenant "fast" gets a lane and
// its rows are appended; a second request for "slow" waits for that lane only.
func TestOpeningALaneLogDoesNotBlockOtherLanes(t *testing.T) {
	opening, release := make(chan struct{}), make(chan struct{})
	cfg := onWALByTenant(t, func(lane string) {
		if lane == "slow" {
			close(opening)
			<-release
		}
	})
	exp, _ := startLogsExporter(t, cfg)

	slow := make(chan error, 2)
	go func() { slow <- exp.ConsumeLogs(tenantCtx("slow"), uniqueLogs("slow 1", 3)) }()
	<-opening
	go func() { slow <- exp.ConsumeLogs(tenantCtx("slow"), uniqueLogs("slow 2", 3)) }()

	fast := make(chan error, 1)
	go func() { fast <- exp.ConsumeLogs(tenantCtx("fast"), uniqueLogs("fast", 3)) }()
	select {
	case err := <-fast:
		require.NoError(t, err)
	case <-time.After(time.Minute): // a failure, not a synchronisation: it passes at once
		t.Fatal("another lane's append waited for lane slow's log to open")
	}
	select {
	case err := <-slow:
		t.Fatalf("a request for lane slow returned before its log was opened: %v", err)
	default:
	}

	close(release)
	require.NoError(t, <-slow)
	require.NoError(t, <-slow)
}

// A lane whose log cannot be opened answers its waiting callers with a 503 and leaves no lane
// behind: the next request tries to open it again.
func TestALaneLogThatCannotOpenIsTriedAgain(t *testing.T) {
	cfg := onWALByTenant(t, nil)
	failures := 1
	realOpen := openLog
	openLog = func(dir string, o wal.Options) (walLog, wal.Recovery, error) {
		if failures > 0 {
			failures--
			return nil, wal.Recovery{}, errors.New("disk on fire")
		}
		return realOpen(dir, o)
	}
	t.Cleanup(func() { openLog = realOpen })
	exp, _ := startLogsExporter(t, cfg)

	err := exp.ConsumeLogs(tenantCtx("a"), uniqueLogs("a", 3))
	requireRetryable(t, err, codes.Unavailable)
	assert.ErrorContains(t, err, "disk on fire")
	require.NoError(t, exp.ConsumeLogs(tenantCtx("a"), uniqueLogs("a", 3)))
}
