package wal

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkAppendParallel is the gateway's shape from the CPU profile that
// made us stop copying payloads into the batch: 32 senders appending ~64 KiB
// records to one lane's log. sync=never leaves the fsync out, so what is
// measured is the CPU side of the group commit (framing under the lock and
// the write to the page cache) rather than the shared disk.
//
//	go test -run '^$' -bench AppendParallel -count 6 ./exporter/clickhouselanesexporter/internal/wal/
func BenchmarkAppendParallel(b *testing.B) {
	const size, writers = 64 << 10, 32
	for _, policy := range []struct {
		name string
		sync SyncPolicy
	}{{"always", SyncAlways}, {"never", SyncNever}} {
		b.Run(fmt.Sprintf("size=%dKiB/writers=%d/sync=%s", size>>10, writers, policy.name), func(b *testing.B) {
			var syncs atomic.Int64
			o := Options{Sync: policy.sync, OnSync: func(time.Duration, int) { syncs.Add(1) }}
			l, _ := openLog(b, b.TempDir(), o)
			benchmarkAppends(b, writers, size, syncs.Load, func(p []byte) error {
				_, err := l.Append(p)
				return err
			})
		})
	}
}

// benchmarkAppends runs b.N appends of size bytes from writers goroutines
// and reports appends/s, p50/p99 latency, fsyncs per append and the
// process's CPU time (user + system) per append.
func benchmarkAppends(b *testing.B, writers, size int, syncs func() int64, appendOne func([]byte) error) {
	p := payload(0, size)
	latencies := make([][]time.Duration, writers)
	var next atomic.Int64
	b.SetBytes(int64(size))
	b.ResetTimer()
	cpu0 := processCPU(b)
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
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(syncs())/float64(b.N), "fsyncs/append")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/append")
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// filledLog writes records of size bytes totalling about total bytes into a
// new log directory and returns it closed.
func filledLog(b *testing.B, size, total int) string {
	dir := b.TempDir()
	l, _, err := Open(dir, Options{Sync: SyncNever})
	if err != nil {
		b.Fatal(err)
	}
	p := payload(0, size)
	for range total / size {
		if _, err := l.Append(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkReadDrain reads a 64 MiB backlog of 8 KiB records the way a drain
// worker does: 1 MiB at a time into one reused buffer, each Read starting
// where the last ended.
func BenchmarkReadDrain(b *testing.B) {
	const size, total = 8 << 10, 64 << 20
	dir := filledLog(b, size, total)
	l, _ := openLog(b, dir, Options{Sync: SyncNever})
	b.SetBytes(total)
	b.ReportAllocs()
	var buf ReadBuffer
	for b.Loop() {
		n := 0
		for from := Index(1); ; {
			recs, err := l.ReadInto(&buf, from, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			n += len(recs)
			from = recs[len(recs)-1].Index + 1
		}
		if n != total/size {
			b.Fatalf("read %d records", n)
		}
	}
}

// BenchmarkOpenRecovers measures Open of a 64 MiB backlog, which reads and
// checksums every record.
func BenchmarkOpenRecovers(b *testing.B) {
	const total = 64 << 20
	dir := filledLog(b, 8<<10, total)
	b.SetBytes(total)
	for b.Loop() {
		l, _, err := Open(dir, Options{Sync: SyncNever})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendWhileDraining is BenchmarkAppend with a drain worker
// reading 1 MiB at a time and committing every 1 or 16 MiB (so deleting 16
// MiB segments) at the same time, as in a running lane.
//
//	go test -run '^$' -bench AppendWhileDraining -benchtime 5000x ./exporter/clickhouselanesexporter/internal/wal/
func BenchmarkAppendWhileDraining(b *testing.B) {
	for _, commitMiB := range []int{1, 16} {
		for _, writers := range []int{8, 64} {
			b.Run(fmt.Sprintf("size=8KiB/writers=%d/commit=%dMiB", writers, commitMiB), func(b *testing.B) {
				benchmarkAppendWhileDraining(b, writers, commitMiB<<20)
			})
		}
	}
}

func benchmarkAppendWhileDraining(b *testing.B, writers, commitBytes int) {
	var syncs atomic.Int64
	l, _ := openLog(b, b.TempDir(), Options{SegmentBytes: 16 << 20, OnSync: func(time.Duration, int) { syncs.Add(1) }})
	stop := make(chan struct{})
	var drained sync.WaitGroup
	drained.Go(func() { drainUntil(b, l, stop, commitBytes) })
	benchmarkAppends(b, writers, 8<<10, syncs.Load, func(p []byte) error {
		_, err := l.Append(p)
		return err
	})
	close(stop)
	drained.Wait()
}

// drainUntil reads everything appended to l until stop closes, committing
// every commitBytes read.
func drainUntil(b *testing.B, l *Log, stop <-chan struct{}, commitBytes int) {
	var read, committed Index
	uncommitted := 0
	for {
		select {
		case <-stop:
			return
		case <-l.Appended():
		}
		for {
			recs, err := l.Read(read+1, 1<<20)
			if err != nil {
				b.Error(err)
				return
			}
			if len(recs) == 0 {
				break
			}
			read = recs[len(recs)-1].Index
			for _, r := range recs {
				uncommitted += len(r.Payload)
			}
			if uncommitted < commitBytes {
				continue
			}
			committed, uncommitted = read, 0
			if err := l.SaveState(State{Committed: committed}); err != nil {
				b.Error(err)
				return
			}
		}
	}
}

// BenchmarkSaveState measures saving a lane's cursor durably.
func BenchmarkSaveState(b *testing.B) {
	l, _ := openLog(b, b.TempDir(), Options{})
	appendN(b, l, 0, 1, 10)
	for b.Loop() {
		if err := l.SaveState(State{PendingFirst: 1, PendingLast: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
