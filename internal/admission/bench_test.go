package admission

import (
	"context"
	"testing"
)

func BenchmarkAcquireRelease(b *testing.B) {
	g := New(Config{MaxRequests: 50, MaxBytes: 200 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rel, _, _ := g.Acquire(ctx, "", 4096)
		rel()
	}
}

func BenchmarkAcquireReleaseParallel(b *testing.B) {
	g := New(Config{MaxRequests: 1 << 20, MaxBytes: 1 << 40, TenantShare: 0.5, MaxTenants: 100})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rel, _, _ := g.Acquire(ctx, "tenant", 4096)
			rel()
		}
	})
}

func BenchmarkRefusal(b *testing.B) {
	g := New(Config{MaxRequests: 1})
	ctx := context.Background()
	hold, _, _ := g.Acquire(ctx, "", 0)
	defer hold()
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = g.Acquire(ctx, "", 4096)
	}
}
