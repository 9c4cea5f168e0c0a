package clickhouselanesexporter

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/exporter"
)

// BenchmarkDrain is the on_wal drain of a backlog of 1000 requests of 100 spans into a Null
// table in batches of up to lanes::max_queue_bytes (64 MiB). "replayed": appended while
// ClickHouse was away by another exporter, drained by a new one from its start (as after a
// restart); "appended": appended by the exporter that drains them, held back by
// flush_interval until its shutdown drains them. Only the drain is timed. peak-heap-MiB is
// the most the live heap grew above its level at the start of the drain (sampled every
// millisecond); cpu-ns/span the collector's CPU (the process's, user and system) while it
// drains.
func BenchmarkDrain(b *testing.B) {
	_, db := nullTable(b)
	for _, from := range []string{"replayed", "appended"} {
		b.Run(from, func(b *testing.B) { benchmarkDrain(b, db, from == "appended") })
	}
}

func benchmarkDrain(b *testing.B, db string, appended bool) {
	td := benchRequest(100)
	const requests = 1000
	fill := func(exp exporter.Traces) {
		for range requests {
			if err := exp.ConsumeTraces(context.Background(), td); err != nil {
				b.Fatal(err)
			}
		}
	}
	var peak float64
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		cfg := createDefaultConfig().(*Config)
		cfg.Endpoint, cfg.Database = "tcp://"+benchAddr, db
		cfg.TracesTableName, cfg.CreateSchema = "null_traces", false
		cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, dir, WALSyncNever
		cfg.WAL.MaxBytes, cfg.WAL.MaxLaneBytes = 64<<30, 64<<30
		cfg.Lanes.FlushRows, cfg.DrainTimeout = 100_000, 10*time.Minute
		var drain exporter.Traces
		if appended {
			cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = cfg.Lanes.MaxQueueRows, time.Hour
			drain = benchLaneExporter(b, cfg)
			fill(drain)
		} else {
			dead := sickConfig(b)
			dead.Acknowledge, dead.WAL = AckOnWAL, cfg.WAL
			exp := benchLaneExporter(b, dead)
			fill(exp)
			_ = exp.Shutdown(context.Background())
		}
		runtime.GC()
		stop := sampleHeap()
		start := cpuTime()
		b.StartTimer()
		if !appended {
			drain = benchLaneExporter(b, cfg)
		}
		if err := drain.Shutdown(context.Background()); err != nil { // drains the whole log
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - start
		peak = max(peak, stop())
	}
	b.ReportMetric(float64(requests*100*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(requests*100*b.N), "cpu-ns/span")
}

// sampleHeap samples the live heap until the returned func is called, which reports the
// highest sample above the first.
func sampleHeap() func() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() float64 { metrics.Read(s); return float64(s[0].Value.Uint64()) }
	base, high := read(), 0.0
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				high = max(high, read()-base)
			}
		}
	})
	return func() float64 {
		close(done)
		wg.Wait()
		return high
	}
}
