package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"google.golang.org/grpc/codes"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
)

// scriptedClickHouse stands in for a lane's destination: each insert fills real column
// blocks (so what would be sent is known: every block of a streamed insert, and its token)
// and answers with the next scripted error (nil, or the end of the script: committed).
type scriptedClickHouse struct {
	mu       sync.Mutex
	tables   []*tableWriter
	script   []error
	attempts []string // the encoded block(s) of every attempt, after its token if it has one
	blocks   []int    // the number of blocks of every attempt
	// budget, if set, is read after each block is filled: maxUsed is the most it held.
	budget  *queue.Budget
	maxUsed int64
}

func newScripted(cfg *Config, script ...error) *scriptedClickHouse {
	return &scriptedClickHouse{tables: logsSignal.tables(cfg.Database, cfg), script: script}
}

func (s *scriptedClickHouse) insert(_ context.Context, src blockSource, report func(insertResult)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[0]
	var buf proto.Buffer
	if src.token != nil {
		buf.PutString(src.token(t.name))
	}
	if src.done != nil {
		defer src.done()
	}
	rows, blocks := 0, 0
	for more := true; more; {
		t.block.Reset()
		var err error
		if more, err = src.fill(s.tables); err != nil {
			return err
		}
		rows += t.block.Rows()
		blocks++
		if s.budget != nil {
			s.maxUsed = max(s.maxUsed, s.budget.Used())
		}
		encodeBlock(&buf, t.block.Input())
	}
	s.attempts = append(s.attempts, string(buf.Buf))
	s.blocks = append(s.blocks, blocks)
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	report(insertResult{table: t.name, rows: rows, err: err})
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
// attempt until the cool-down ends (the probe that follows: TestScriptedBreakerProbeReopensThenCloses).
func TestScriptedBreakerOpensAndRefuses(t *testing.T) {
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

// On insert, a batch whose attempts failed before anything was sent (chinsert.NotSentError:
// no connection, a column the driver cannot encode) gets its retry::max_attempts and a 503:
// nothing of it can be in ClickHouse, so it is not held as an unknown outcome would be.
func TestScriptedNotSentIsNotHeldAsUnknown(t *testing.T) {
	notSent := fmt.Errorf("insert into otel_logs: %w", &chinsert.NotSentError{})
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse {
		return newScripted(cfg, notSent, notSent, notSent, notSent, notSent)
	})
	exp, _ := startLogsExporter(t, cfg)
	requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)), codes.Unavailable)
	assert.Len(t, fake.sent(), 3, "max_attempts, then given up")
}

// On WAL, a batch is streamed: one insert of a block per streamBlockRows rows (whole
// records), under a token named by the log and the records, the same on every attempt.
func TestScriptedOnWALStreamsABatchInBlocks(t *testing.T) {
	smallStreamBlocks(t, 1)
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse { return newScripted(cfg, errTransient) })
	cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, t.TempDir(), WALSyncNever
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 12, time.Hour
	exp, _ := startLogsExporter(t, cfg)
	for i := range 4 {
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint(i), 3)))
	}
	require.Eventually(t, func() bool { return len(fake.sent()) == 2 }, time.Minute, time.Millisecond)
	sent := fake.sent()
	assert.Equal(t, sent[0], sent[1], "the retry is the same blocks and token")
	assert.Contains(t, sent[0], "sluice-wal-")
	fake.mu.Lock()
	defer fake.mu.Unlock()
	assert.Equal(t, []int{4, 4}, fake.blocks, "one block per record")
}

// On WAL, the block being filled and sent holds its records' bytes of lanes::memory_budget:
// with a budget of two and a half records, a backlog of six goes as one insert of blocks of
// two records, the budget never passed, and nothing is held once it is committed.
func TestScriptedOnWALBlocksStayWithinTheMemoryBudget(t *testing.T) {
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse { return newScripted(cfg) })
	cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, t.TempDir(), WALSyncNever
	record := len(newRecordCodec(&logsSignal).encode(nil, uniqueLogs("record 0", 10)))
	cfg.Lanes.MemoryBudget, cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = int64(2*record+record/2), 60, time.Hour
	exp, tel := newLogsExporter(t, cfg)
	fake.budget = sharedBudget(component.NewIDWithName(NewFactory().Type(), t.Name()), cfg.Lanes.MemoryBudget)
	startComponent(t, exp)
	for i := range 6 {
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("record ", i), 10)))
	}
	require.Eventually(t, func() bool { return metricByLane(tel, "otelcol_sluice_exporter_wal_bytes")["logs"] == 0 },
		time.Minute, time.Millisecond)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	assert.Equal(t, []int{3}, fake.blocks, "one insert, two records a block")
	assert.LessOrEqual(t, fake.maxUsed, cfg.Lanes.MemoryBudget)
	assert.Positive(t, fake.maxUsed, "the blocks were counted")
	assert.Zero(t, fake.budget.Used(), "released once committed")
}

var errUnknown = fmt.Errorf("insert into otel_logs: %w", &chinsert.OutcomeUnknownError{})

// scriptedSynctestConfig is scriptedConfig for a test in a synctest bubble: retries back off
// 1s, 2s, then 4s at most, and the breaker cools down for 10s without jitter, so the test
// can say when each attempt happens.
func scriptedSynctestConfig(t *testing.T, script ...error) (*Config, *scriptedClickHouse) {
	cfg, fake := scriptedConfig(t, func(cfg *Config) *scriptedClickHouse { return newScripted(cfg, script...) })
	cfg.Retry = RetryConfig{MaxAttempts: 3, InitialInterval: time.Second, MaxInterval: 4 * time.Second}
	cfg.Breaker = BreakerConfig{FailureThreshold: 10, CoolDown: 10 * time.Second}
	return cfg, fake
}

// On insert, once an attempt's outcome is unknown (it may be committed), the batch is not
// given up after max_attempts while its caller waits: it is sent again, the same block under
// the same token, backing off 1, 2, 4, 4, 4 s, until ClickHouse answers; the caller is
// acknowledged.
func TestScriptedUnknownOutcomeIsSettledWhileTheCallerWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, fake := scriptedSynctestConfig(t, errUnknown, errUnknown, errUnknown, errUnknown, errUnknown)
		exp, tel := startLogsExporter(t, cfg)
		start := time.Now()
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)))
		assert.Equal(t, cfg.Lanes.FlushInterval+15*time.Second, time.Since(start), "the batch's flush, then backoff 1+2+4+4+4 s")
		sent := fake.sent()
		require.Len(t, sent, 6, "five unknown outcomes past max_attempts 3, then the commit")
		for _, s := range sent[1:] {
			assert.Equal(t, sent[0], s, "every attempt is the same block")
		}
		requireNothingRefused(t, tel)
	})
}

// Settling lasts only while a caller waits: once the caller's context ends, the batch gets
// its max_attempts as usual and is given up (its rows are the client's to resend).
func TestScriptedUnknownOutcomeIsGivenUpOnceTheCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		script := make([]error, 10)
		for i := range script {
			script[i] = errUnknown
		}
		cfg, fake := scriptedSynctestConfig(t, script...)
		exp, _ := startLogsExporter(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, exp.ConsumeLogs(ctx, uniqueLogs("a", 3)), context.DeadlineExceeded)
		time.Sleep(time.Minute) // of the bubble's clock: long after any further attempt
		synctest.Wait()
		assert.Len(t, fake.sent(), 3, "attempts at 0, 1 and 3 s; the third is the last")
	})
}

// Without deduplication an unknown outcome cannot be settled (a resend under no token may
// duplicate as much as a client's): the batch gets max_attempts like any other failure.
func TestScriptedUnknownOutcomeWithoutDeduplicationIsNotHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, fake := scriptedSynctestConfig(t, errUnknown, errUnknown, errUnknown, errUnknown)
		cfg.Deduplicate = false
		exp, _ := startLogsExporter(t, cfg)
		requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)), codes.Unavailable)
		assert.Len(t, fake.sent(), 3)
	})
}

// A batch being settled holds its lane through the breaker: failure_threshold unknown
// outcomes open it, new requests are refused at once (503, the hint the time until the
// probe) without an attempt, the held batch waits out the cool-down, its probe commits it and
// closes the breaker, and its caller is acknowledged.
func TestScriptedSettlingWaitsOutTheOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, fake := scriptedSynctestConfig(t, errUnknown, errUnknown)
		cfg.Breaker.FailureThreshold = 2
		exp, tel := startLogsExporter(t, cfg)
		held := make(chan error)
		go func() { held <- exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)) }()
		time.Sleep(cfg.Lanes.FlushInterval + time.Second) // the second attempt fails: the breaker opens
		synctest.Wait()
		require.Len(t, fake.sent(), 2)
		hint := requireRetryable(t, exp.ConsumeLogs(context.Background(), uniqueLogs("b", 3)), codes.Unavailable)
		assert.Equal(t, 10*time.Second, hint, "the time until the probe")
		assert.Equal(t, int64(3), refusedByReason(t, tel)["breaker_open"])

		require.NoError(t, <-held)
		assert.Len(t, fake.sent(), 3, "the probe, after the cool-down, committed the held batch")
		assert.Equal(t, map[string]int64{"open": 1, "half_open": 1, "closed": 1},
			sumByAttribute(t, tel, "otelcol_sluice_exporter_breaker_transitions", "state"))
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("c", 3)), "closed again")
	})
}

// The breaker's transitions: failure_threshold failed attempts open it; a request while it
// is open is refused without an attempt; after the cool-down one probe goes through, and a
// failed probe opens it again for another cool-down; a successful one closes it.
func TestScriptedBreakerProbeReopensThenCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, fake := scriptedSynctestConfig(t, errTransient, errTransient, errTransient)
		cfg.Retry.MaxAttempts, cfg.Breaker.FailureThreshold = 2, 2
		exp, tel := startLogsExporter(t, cfg)
		transitions := func() map[string]int64 {
			return sumByAttribute(t, tel, "otelcol_sluice_exporter_breaker_transitions", "state")
		}
		consume := func(name string) error { return exp.ConsumeLogs(context.Background(), uniqueLogs(name, 3)) }

		requireRetryable(t, consume("a"), codes.Unavailable) // attempts at 0 and 1 s: open
		assert.Equal(t, map[string]int64{"open": 1}, transitions())
		assert.Equal(t, 10*time.Second, requireRetryable(t, consume("b"), codes.Unavailable))
		assert.Len(t, fake.sent(), 2, "refused while open, without an attempt")

		time.Sleep(10 * time.Second)
		// The probe fails and opens the breaker again; the batch's second attempt finds it
		// open and the caller gets the time until the next probe.
		assert.Equal(t, 10*time.Second-time.Second, requireRetryable(t, consume("c"), codes.Unavailable))
		assert.Len(t, fake.sent(), 3, "one probe")
		assert.Equal(t, map[string]int64{"open": 2, "half_open": 1}, transitions())

		time.Sleep(10 * time.Second)
		require.NoError(t, consume("d"), "the next probe commits and closes the breaker")
		assert.Equal(t, map[string]int64{"open": 2, "half_open": 2, "closed": 1}, transitions())
		require.NoError(t, consume("e"))
		assert.Len(t, fake.sent(), 5)
	})
}

// On enqueue, whose callers are gone once their rows are queued, a failing batch is retried
// past max_attempts until ClickHouse takes it.
func TestScriptedOnEnqueueRetriesUntilWritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, fake := scriptedSynctestConfig(t, errTransient, errTransient, errTransient, errTransient)
		cfg.Acknowledge = AckOnEnqueue
		exp, tel := startLogsExporter(t, cfg)
		require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("a", 3)))
		time.Sleep(time.Minute)
		synctest.Wait()
		sent := fake.sent()
		require.Len(t, sent, 5, "four failures, then the commit")
		assert.Equal(t, sent[0], sent[4])
		requireNothingRefused(t, tel)
	})
}

func requireNothingRefused(t *testing.T, tel *componenttest.Telemetry) {
	t.Helper()
	_, err := tel.GetMetric("otelcol_sluice_exporter_rows_refused")
	require.Error(t, err, "no row was refused: the counter was never recorded")
}
