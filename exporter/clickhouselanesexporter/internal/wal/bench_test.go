package wal

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends (SyncAlways) from concurrent
// callers: appends/s, the latency one caller sees, and how many fsyncs the
// group commit spends per append.
//
//	go test -run '^$' -bench Append -benchtime 3000x ./exporter/clickhouselanesexporter/internal/wal/
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{8 << 10, 64 << 10} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("size=%dKiB/writers=%d", size>>10, writers), func(b *testing.B) {
				var syncs atomic.Int64
				l, _ := openLog(b, b.TempDir(), Options{OnSync: func(time.Duration, int) { syncs.Add(1) }})
				benchmarkAppends(b, writers, size, syncs.Load, func(p []byte) error {
					_, err := l.Append(p)
					return err
				})
			})
		}
	}
}

// benchmarkAppends runs b.N appends of size bytes from writers goroutines
// and reports appends/s, p50/p99 latency and fsyncs per append.
func benchmarkAppends(b *testing.B, writers, size int, syncs func() int64, appendOne func([]byte) error) {
	p := payload(0, size)
	latencies := make([][]time.Duration, writers)
	var next atomic.Int64
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := appendOne(p); err != nil {
					b.Error(err)
					return
				}
				latencies[w] = append(latencies[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(syncs())/float64(b.N), "fsyncs/append")
}
