package clickhouselanesexporter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// scriptedClickHouse stands in for a lane's destination: each insert fills real column
// blocks (so what would be sent is known) and answers with the next scripted error (nil, or
// the end of the script: committed).
type scriptedClickHouse struct {
	mu       sync.Mutex
	tables   []*tableWriter
	script   []error
	attempts []string // the encoded block of every attempt
}

func newScripted(cfg *Config, script ...error) *scriptedClickHouse {
	return &scriptedClickHouse{tables: logsSignal.tables(cfg.Database, cfg), script: script}
}

func (s *scriptedClickHouse) insert(_ context.Context, fill func([]*tableWriter), report func(insertResult)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[0]
	t.block.Reset()
	fill(s.tables)
	var buf proto.Buffer
	encodeBlock(&buf, t.block.Input())
	s.attempts = append(s.attempts, string(buf.Buf))
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	report(insertResult{table: t.name, rows: t.block.Rows(), err: err})
	return err
}

func (s *scriptedClickHouse) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.attempts...)
}

// scriptedConfig is an exporter config whose ClickHouse is never dialled (schema creation
// off, the destination replaced by fake), with quick retries and breaker.
func scriptedConfig(t *testing.T, fake func(cfg *Config) *scriptedClickHouse) (*Config, *scriptedClickHouse) {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint, cfg.CreateSchema = "tcp://127.0.0.1:1", false
	cfg.DialTimeout = 100 * time.Millisecond
	cfg.Lanes.FlushInterval, cfg.Lanes.FlushQuiet = time.Millisecond, 0
	cfg.Retry = RetryConfig{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 10, CoolDown: 50 * time.Millisecond}
	f := fake(cfg)
	newExporterHooks = testHooks{writer: func(*destination) blockWriter { return f }}
	t.Cleanup(func() { newExporterHooks = testHooks{} })
	return cfg, f
}

var errTransient = errors.New("connection reset by peer")

// On insert, a batch that keeps failing gets retry::max_attempts attempts, each the same
// block, then its caller gets a 503 with a hint.
func TestScriptedOnInsertGivesUpAfterMaxAttempts(t *testing.T) {
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse {
		return newScripted(cfg, errTransient, errTransient, errTransient, errTransient)
	})
	exp, _ := startLogsExporter(t, cfg)
	requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)), codes.Unavailable)
	sent := fake.sent()
	require.Len(t, sent, 3)
	assert.Equal(t, sent[0], sent[2], "retries resend the same block")
}

// The breaker opens after failure_threshold failed attempts: callers are refused without an
// attempt until the cool-down ends; then one probe goes through and closes it.
func TestScriptedBreakerOpensRefusesAndProbes(t *testing.T) {
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse {
		return newScripted(cfg, errTransient, errTransient)
	})
	cfg.Retry.MaxAttempts, cfg.Breaker.FailureThreshold = 2, 2
	cfg.Breaker.CoolDown = time.Hour // no probe during the refusal check
	exp, tel := startLogsExporter(t, cfg)
	requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)), codes.Unavailable)
	require.True(t, breakerOpened(tel))
	hint := requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("b", 3)), codes.Unavailable)
	assert.Greater(t, hint, 30*time.Minute, "the hint is the time until the probe")
	assert.Len(t, fake.sent(), 2, "an open breaker refuses without an attempt")
	assert.Equal(t, int64(3), refusedByReason(t, tel)["breaker_open"])
}

// On WAL, the caller is acknowledged at once; the lane retries the batch, unchanged, until
// ClickHouse takes it, and then the log is empty.
func TestScriptedOnWALRetriesTheSameBatchUntilCommitted(t *testing.T) {
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse {
		return newScripted(cfg, errTransient, errTransient, errTransient, errTransient, errTransient)
	})
	cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, t.TempDir(), WALSyncNever
	exp, tel := startLogsExporter(t, cfg)
	require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)))
	require.Eventually(t, func() bool {
		return len(fake.sent()) == 6 && metricByLane(tel, "otelcol_sluice_exporter_wal_bytes")["logs"] == 0
	},
		time.Minute, time.Millisecond, "five failures, then the commit, then the segment is deleted")
	sent := fake.sent()
	for _, s := range sent[1:] {
		assert.Equal(t, sent[0], s, "every attempt is the same block (the same deduplication token)")
	}
	assert.False(t, breakerOpened(tel), "failure_threshold 10 was not reached")
}
