package clickhouselanesexporter

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/internal/reqsize"
)

// benchLaneExporter builds and starts a traces exporter with cfg under an ID of its own.
func benchLaneExporter(b *testing.B, cfg *Config) exporter.Traces {
	b.Helper()
	set := nopSettings()
	set.ID = component.NewIDWithName(NewFactory().Type(), fmt.Sprintf("bench%d", dbSeq.Add(1)))
	exp, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	// Benchmarks against a destination that never answers leave rows queued: shutdown
	// reports them, which is expected here.
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// sickConfig points every lane at a server that never answers, with schema creation off.
func sickConfig(b *testing.B) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = hangingServer(b)
	cfg.CreateSchema = false
	cfg.DialTimeout = 100 * time.Millisecond
	cfg.DrainTimeout = time.Millisecond
	return cfg
}

func benchRequest(spans int) ptrace.Traces {
	td := typicalTraces()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool {
		spans--
		return spans < 0
	})
	return td
}

// BenchmarkEnqueue is the cost of accepting a 100-span request with acknowledge on_enqueue:
// size it (or take the size the receiver passed along), check the breaker, queue it.
// Nothing is flushed during the run.
func BenchmarkEnqueue(b *testing.B) {
	td := benchRequest(100)
	hinted := reqsize.NewContext(context.Background(),
		reqsize.Size{Items: td.SpanCount(), Bytes: (&ptrace.ProtoMarshaler{}).TracesSize(td)})
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{{"size=measured", context.Background()}, {"size=from_receiver", hinted}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := sickConfig(b)
			cfg.Acknowledge = AckOnEnqueue
			cfg.Lanes.MaxQueueRows, cfg.Lanes.FlushRows = 1<<40, 1<<40
			cfg.Lanes.MaxQueueBytes, cfg.Lanes.MemoryBudget = 1<<40, 1<<40
			cfg.Lanes.FlushInterval = time.Hour
			exp := benchLaneExporter(b, cfg)
			b.ReportAllocs()
			for b.Loop() {
				if err := exp.ConsumeTraces(bc.ctx, td); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefusal is the cost of refusing a 100-span request, by reason.
func BenchmarkRefusal(b *testing.B) {
	td := benchRequest(100)
	ctx := context.Background()
	b.Run("reason=queue_full", func(b *testing.B) {
		cfg := sickConfig(b)
		cfg.Acknowledge = AckOnEnqueue
		// One request fits, a second does not, and nothing is ever flushed.
		cfg.Lanes.MaxQueueRows, cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 150, 150, time.Hour
		exp := benchLaneExporter(b, cfg)
		if err := exp.ConsumeTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
		benchRefusals(b, exp, td)
	})
	b.Run("reason=breaker_open", func(b *testing.B) {
		cfg := sickConfig(b)
		cfg.Retry.MaxAttempts = 2
		cfg.Breaker.CoolDown = time.Hour
		exp := benchLaneExporter(b, cfg)
		if err := exp.ConsumeTraces(ctx, td); err == nil {
			b.Fatal("a destination that never answers accepted the insert")
		}
		benchRefusals(b, exp, td)
	})
}

func benchRefusals(b *testing.B, exp exporter.Traces, td ptrace.Traces) {
	b.ReportAllocs()
	for b.Loop() {
		if err := exp.ConsumeTraces(context.Background(), td); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkLaneThroughput pushes 1000-span requests through the whole exporter (on_insert:
// each call waits for its commit) into a Null-engine table, from many concurrent callers
// spread over 1 or 100 tenant lanes. It reports rows/s, wall and CPU ns per span, and the
// process's peak RSS.
func BenchmarkLaneThroughput(b *testing.B) {
	for _, lanes := range []int{1, 100} {
		b.Run(fmt.Sprintf("lanes=%d", lanes), func(b *testing.B) {
			_, db := nullTable(b)
			cfg := createDefaultConfig().(*Config)
			cfg.Endpoint, cfg.Database = "tcp://"+benchAddr, db
			cfg.TracesTableName, cfg.CreateSchema = "null_traces", false
			cfg.Lanes.Key, cfg.Lanes.KeyName, cfg.Lanes.MaxLanes = LaneByMetadata, "X-Scope-OrgID", lanes
			cfg.InsertTimeout = 30 * time.Second
			exp := benchLaneExporter(b, cfg)
			ctxs := make([]context.Context, lanes)
			for i := range ctxs {
				ctxs[i] = tenantCtx(fmt.Sprint("tenant-", i))
			}
			td := typicalTraces()
			var caller atomic.Int64
			var failed atomic.Pointer[error]
			b.SetParallelism(64) // on_insert callers block until their batch commits
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := ctxs[int(caller.Add(1))%lanes]
				for pb.Next() {
					if err := exp.ConsumeTraces(ctx, td); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				}
			})
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			reportPerSpan(b, cpu)
			b.ReportMetric(float64(b.N*benchSpans)/b.Elapsed().Seconds(), "rows/s")
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
		})
	}
}
