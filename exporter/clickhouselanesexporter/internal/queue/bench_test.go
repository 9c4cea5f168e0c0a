package queue

import (
	"testing"
	"time"
)

var benchConfig = Config{MaxRows: 1 << 30, MaxBytes: 1 << 40, FlushRows: 10_000, FlushAge: time.Second}

// BenchmarkOfferAccepted is the enqueue cost per request; Take+Complete run every 10k
// rows (outside the timer they would hide nothing: they amortise to per-batch work).
func BenchmarkOfferAccepted(b *testing.B) {
	q := NewQueue[int](benchConfig, NewBudget(1<<40))
	it := Item[int]{Rows: 100, Bytes: 10_000, Done: func(error) {}}
	batch := make([]Item[int], 0, 128)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := q.Offer(it); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			batch, _ = q.Take(b.Context(), batch[:0])
			q.Complete(batch, nil)
		}
	}
}

func BenchmarkOfferRefusedQueueFull(b *testing.B) {
	q := NewQueue[int](Config{MaxRows: 100, MaxBytes: 1 << 20, FlushRows: 100, FlushAge: time.Second}, nil)
	it := Item[int]{Rows: 100, Bytes: 10}
	_ = q.Offer(it)
	b.ReportAllocs()
	for b.Loop() {
		if q.Offer(it) == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkOfferRefusedBudget(b *testing.B) {
	budget := NewBudget(10)
	q := NewQueue[int](Config{MaxRows: 100, MaxBytes: 1 << 20, FlushRows: 100, FlushAge: time.Second}, budget)
	budget.TryReserve(10)
	it := Item[int]{Rows: 1, Bytes: 10}
	b.ReportAllocs()
	for b.Loop() {
		if q.Offer(it) == nil {
			b.Fatal("accepted")
		}
	}
}
