package reqsize

import (
	"context"
	"testing"
)

func TestForTrustsOnlyAMatchingItemCount(t *testing.T) {
	ctx := NewContext(context.Background(), Size{Items: 100, Bytes: 4096})
	if n, ok := For(ctx, 100); !ok || n != 4096 {
		t.Fatalf("For(100) = %d, %v; want 4096, true", n, ok)
	}
	if _, ok := For(ctx, 99); ok {
		t.Fatal("a processor changed the item count: the size must not be trusted")
	}
	if _, ok := For(context.Background(), 100); ok {
		t.Fatal("no hint in a fresh context")
	}
	if _, ok := For(NewContext(context.Background(), Size{Items: 1}), 1); ok {
		t.Fatal("a zero size is no hint")
	}
}
