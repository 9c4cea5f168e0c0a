package sluicereceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// shared keeps one receiver per configuration, so traces, metrics and logs pipelines that
// use the same receiver share its listeners and its admission gate.
type shared[K comparable, V component.Component] struct {
	mu sync.Mutex
	m  map[K]*sharedEntry[V] // guarded by mu
}

// sharedEntry starts its component on the first Start and stops it on the first Shutdown,
// which is what the collector does for every signal of one receiver.
type sharedEntry[V component.Component] struct {
	value     V
	startOnce sync.Once
	startErr  error
	stopOnce  sync.Once
	stopErr   error
	remove    func()
}

func (s *shared[K, V]) getOrAdd(key K, create func() (V, error)) (*sharedEntry[V], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		return e, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	e := &sharedEntry[V]{value: v}
	e.remove = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.m, key)
	}
	if s.m == nil {
		s.m = make(map[K]*sharedEntry[V])
	}
	s.m[key] = e
	return e, nil
}

// Start starts the shared component once.
func (e *sharedEntry[V]) Start(ctx context.Context, host component.Host) error {
	e.startOnce.Do(func() { e.startErr = e.value.Start(ctx, host) })
	return e.startErr
}

// Shutdown stops the shared component once and forgets it, so a later create starts afresh.
func (e *sharedEntry[V]) Shutdown(ctx context.Context) error {
	e.stopOnce.Do(func() {
		e.remove()
		e.stopErr = e.value.Shutdown(ctx)
	})
	return e.stopErr
}
