package sluicereceiver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/reqsize"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// sink is a consumer for all signals that answers with scripted errors first, then accepts
// and counts items.
type sink struct {
	mu      sync.Mutex
	script  []error
	calls   int
	spans   int
	points  int
	records int
	hold    time.Duration // time each call takes
	onCall  func()        // runs inside each call, e.g. to sample the gate
	sizes   []string      // the reqsize hint each traces call carried, as "items/bytes" or "none"
}

func (s *sink) next() error {
	s.mu.Lock()
	s.calls++
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	hold, onCall := s.hold, s.onCall
	s.mu.Unlock()
	if onCall != nil {
		onCall()
	}
	time.Sleep(hold)
	return err
}

func (s *sink) counts() (calls, spans, points, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.spans, s.points, s.records
}

func (s *sink) traces() consumer.Traces {
	c, _ := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		hint := "none"
		if sz, ok := reqsize.FromContext(ctx); ok {
			hint = fmt.Sprintf("%d/%d", sz.Items, sz.Bytes)
		}
		s.mu.Lock()
		s.sizes = append(s.sizes, hint)
		s.mu.Unlock()
		if err := s.next(); err != nil {
			return err
		}
		s.mu.Lock()
		s.spans += td.SpanCount()
		s.mu.Unlock()
		return nil
	})
	return c
}

func (s *sink) metrics() consumer.Metrics {
	c, _ := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		if err := s.next(); err != nil {
			return err
		}
		s.mu.Lock()
		s.points += md.DataPointCount()
		s.mu.Unlock()
		return nil
	})
	return c
}

func (s *sink) logs() consumer.Logs {
	c, _ := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		if err := s.next(); err != nil {
			return err
		}
		s.mu.Lock()
		s.records += ld.LogRecordCount()
		s.mu.Unlock()
		return nil
	})
	return c
}

// startReceiver runs a receiver for all three signals on free loopback ports.
func startReceiver(t testing.TB, s *sink, mutate func(*Config)) *otlpReceiver {
	t.Helper()
	return startReceiverWith(t, s, mutate, nil)
}

// startReceiverWith is startReceiver with a hook that may change the receiver before it
// starts serving.
func startReceiverWith(t testing.TB, s *sink, mutate func(*Config), beforeStart func(*otlpReceiver)) *otlpReceiver {
	t.Helper()
	return startReceiverSet(t, receivertest.NewNopSettings(metadata.Type), s, mutate, beforeStart)
}

// startReceiverSet is startReceiverWith with the given settings, e.g. to read its telemetry.
func startReceiverSet(t testing.TB, set receiver.Settings, s *sink, mutate func(*Config), beforeStart func(*otlpReceiver)) *otlpReceiver {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	ctx := context.Background()
	f := NewFactory()
	tr, err := f.CreateTraces(ctx, set, cfg, s.traces())
	require.NoError(t, err)
	_, err = f.CreateMetrics(ctx, set, cfg, s.metrics())
	require.NoError(t, err)
	_, err = f.CreateLogs(ctx, set, cfg, s.logs())
	require.NoError(t, err)
	r := tr.(*sharedEntry[*otlpReceiver]).value
	if beforeStart != nil {
		beforeStart(r)
	}
	require.NoError(t, tr.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, tr.Shutdown(context.Background())) })
	return r
}

func testTraces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range spans {
		sp := ss.Spans().AppendEmpty()
		sp.SetName("span")
		sp.SetTraceID([16]byte{1, byte(i)})
		sp.SetSpanID([8]byte{2, byte(i)})
	}
	return td
}

func testMetrics(points int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("m")
	g := m.SetEmptyGauge()
	for i := range points {
		g.DataPoints().AppendEmpty().SetIntValue(int64(i))
	}
	return md
}

func testLogs(records int) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range records {
		lrs.AppendEmpty().Body().SetStr("log line")
	}
	return ld
}

// setTapHeldLimit sets the tap's bound on held streams for one test or benchmark. The old
// bound comes back at cleanup, after the receivers started later have shut down (cleanups
// run last registered first), so no server goroutine reads it while it is restored.
func setTapHeldLimit(tb testing.TB, limit int64) {
	old := tapHeldLimit
	tb.Cleanup(func() { tapHeldLimit = old })
	tapHeldLimit = limit
}

// requireRefusedOverRequests checks that err is the gate's refusal for want of a request
// slot, as a gRPC client sees it: RESOURCE_EXHAUSTED, its message, and RetryInfo, whose
// delay it returns.
func requireRefusedOverRequests(t *testing.T, r *otlpReceiver, err error) time.Duration {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	require.Equal(t, r.overRequests.Message, st.Message())
	delay, ok := backpressure.RetryDelay(st)
	require.True(t, ok, "RetryInfo on the wire")
	return delay
}
