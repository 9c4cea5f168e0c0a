package clickhouselanesexporter

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkDrain is the on_wal drain of a backlog: 1000 requests of 100 spans appended while
// ClickHouse is away, then a new exporter inserting them into a Null table in batches of up
// to 100,000 rows (flush_rows) and 64 MiB (max_queue_bytes). peak-heap-MiB is the most the
// live heap grew above its level at the start of the drain (sampled every millisecond).
func BenchmarkDrain(b *testing.B) {
	_, db := nullTable(b)
	td := benchRequest(100)
	const requests = 1000
	var peak float64
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		dead := sickConfig(b)
		dead.Acknowledge, dead.WAL.Directory, dead.WAL.Sync = AckOnWAL, dir, WALSyncNever
		dead.WAL.MaxBytes, dead.WAL.MaxLaneBytes = 64<<30, 64<<30
		exp := benchLaneExporter(b, dead)
		for range requests {
			if err := exp.ConsumeTraces(context.Background(), td); err != nil {
				b.Fatal(err)
			}
		}
		_ = exp.Shutdown(context.Background())

		cfg := createDefaultConfig().(*Config)
		cfg.Endpoint, cfg.Database = "tcp://"+benchAddr, db
		cfg.TracesTableName, cfg.CreateSchema = "null_traces", false
		cfg.Acknowledge, cfg.WAL.Directory, cfg.WAL.Sync = AckOnWAL, dir, WALSyncNever
		cfg.WAL.MaxBytes, cfg.WAL.MaxLaneBytes = 64<<30, 64<<30
		cfg.Lanes.FlushRows, cfg.DrainTimeout = 100_000, 10*time.Minute
		runtime.GC()
		stop := sampleHeap()
		b.StartTimer()
		drain := benchLaneExporter(b, cfg)
		if err := drain.Shutdown(context.Background()); err != nil { // drains the whole log
			b.Fatal(err)
		}
		b.StopTimer()
		peak = max(peak, stop())
	}
	b.ReportMetric(float64(requests*100*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
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
