package admission

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// ErrRefused is wrapped by every refusal from Acquire.
var ErrRefused = errors.New("admission refused")

// ErrQueueFull is wrapped by refusals made because MaxWaiting requests already wait, so the
// caller can name that limit rather than the one the request was waiting for.
var ErrQueueFull = fmt.Errorf("%w: wait queue full", ErrRefused)

// ErrGaveUp is wrapped by the refusals of a request that waited in the queue and left it
// unadmitted: MaxWait passed, or its context ended. Every other refusal is made at once,
// without waiting, so a caller timing the wait can tell the two apart.
var ErrGaveUp = fmt.Errorf("%w: gave up waiting", ErrRefused)

// refusedErrors are preallocated so the refusal path, the one that runs under a flood,
// allocates nothing for its error.
var refusedErrors = map[backpressure.Reason]error{
	backpressure.ReasonOverloaded:    fmt.Errorf("%w: %s", ErrRefused, backpressure.ReasonOverloaded),
	backpressure.ReasonInflightBytes: fmt.Errorf("%w: %s", ErrRefused, backpressure.ReasonInflightBytes),
	backpressure.ReasonTenantShare:   fmt.Errorf("%w: %s", ErrRefused, backpressure.ReasonTenantShare),
}

// Gate is a weighted semaphore over requests and bytes. The zero Gate is not usable; call New.
type Gate struct {
	cfg           Config
	shareRequests int   // per-tenant request cap, 0 without shares
	shareBytes    int64 // per-tenant byte cap, 0 without shares
	shareWaiting  int   // per-tenant cap on waiters, 0 without shares

	mu       sync.Mutex
	requests int
	bytes    int64
	tenants  map[string]*usage
	waiters  list.List // of *waiter, in arrival order
	// queued counts the waiters that hold one of the MaxWaiting places: those blocked by a
	// global limit. Waiters blocked only by their own tenant's share are bounded per tenant
	// (shareWaiting) instead, so a greedy tenant cannot fill the queue others need.
	queued int
}

type usage struct {
	requests int
	bytes    int64
	waiting  int // this tenant's waiters, of either kind
}

type waiter struct {
	tenant  string
	reqs    int           // requests to take on admission: 1, or 0 for a reservation's bytes
	n       int64         // bytes to take on admission
	held    int64         // bytes already held by a Reservation, released with the slot
	ready   chan struct{} // closed once admitted
	granted bool          // guarded by Gate.mu
	queued  bool          // holds a MaxWaiting place (blocked by a global limit); guarded by Gate.mu
}

// New returns a gate enforcing cfg.
func New(cfg Config) *Gate {
	g := &Gate{cfg: cfg, tenants: make(map[string]*usage)}
	if cfg.TenantShare > 0 && cfg.TenantShare < 1 {
		if cfg.MaxRequests > 0 {
			g.shareRequests = max(1, int(math.Ceil(cfg.TenantShare*float64(cfg.MaxRequests))))
		}
		if cfg.MaxBytes > 0 {
			g.shareBytes = max(1, int64(math.Ceil(cfg.TenantShare*float64(cfg.MaxBytes))))
		}
		g.shareWaiting = max(1, int(math.Ceil(cfg.TenantShare*float64(cfg.MaxWaiting))))
	}
	return g
}

// Acquire admits a request of n bytes for tenant, waiting in FIFO order up to MaxWait if
// waiting is enabled and the queue has room. On success it returns a release function that
// must be called exactly once when the request's memory is no longer held. On refusal it
// returns the reason and an error wrapping ErrRefused (or the context's error), and leaves
// the gate unchanged.
//
// A request held back by its own tenant's share waits without taking one of the
// MaxWaiting places (its tenant may have its share of MaxWaiting such waiters), and a
// request that fits is admitted at once even while such waiters queue: they could not go
// anyway.
func (g *Gate) Acquire(ctx context.Context, tenant string, n int64) (release func(), _ backpressure.Reason, _ error) {
	if r := g.neverFits(n); r != backpressure.ReasonNone {
		return nil, r, fmt.Errorf("%w: request of %d bytes exceeds the %s limit", ErrRefused, n, r)
	}
	g.mu.Lock()
	return g.acquireLocked(ctx, g.tenantKeyLocked(tenant), 1, n, 0)
}

// acquireLocked takes reqs requests (1, or 0 for a reservation's first bytes) and n more
// bytes for tenant (already its key), which holds held bytes already; the release frees
// them all. It unlocks g.mu.
func (g *Gate) acquireLocked(ctx context.Context, tenant string, reqs int, n, held int64) (func(), backpressure.Reason, error) {
	r := g.blockedLocked(tenant, reqs, n)
	if r == backpressure.ReasonNone && g.queued == 0 {
		g.takeLocked(tenant, reqs, n)
		g.mu.Unlock()
		return g.releaser(tenant, reqs, n+held), backpressure.ReasonNone, nil
	}
	if r, err := g.mayWaitLocked(tenant, r); err != nil {
		g.mu.Unlock()
		return nil, r, err
	}
	w := &waiter{tenant: tenant, reqs: reqs, n: n, held: held, ready: make(chan struct{}), queued: r != backpressure.ReasonTenantShare}
	elem := g.waiters.PushBack(w)
	g.waitingLocked(w, +1)
	g.grantLocked()
	g.mu.Unlock()
	return g.wait(ctx, elem, w)
}

// mayWaitLocked refuses a request that cannot be admitted now (blocked says why) and has no
// room to wait, with the limit that refused it.
func (g *Gate) mayWaitLocked(tenant string, blocked backpressure.Reason) (backpressure.Reason, error) {
	if g.cfg.MaxWait <= 0 {
		r := orOverloaded(blocked)
		return r, refusedErrors[r]
	}
	if u := g.tenants[tenant]; u != nil && g.shareWaiting > 0 && u.waiting >= g.shareWaiting {
		// Its tenant already has its share of the queue.
		return backpressure.ReasonTenantShare, refusedErrors[backpressure.ReasonTenantShare]
	}
	if blocked != backpressure.ReasonTenantShare && g.queued >= g.cfg.MaxWaiting {
		return orOverloaded(blocked), ErrQueueFull
	}
	return backpressure.ReasonNone, nil
}

// neverFits refuses a request no amount of waiting can admit.
func (g *Gate) neverFits(n int64) backpressure.Reason {
	if g.cfg.MaxBytes > 0 && n > g.cfg.MaxBytes {
		return backpressure.ReasonTooLarge
	}
	if g.shareBytes > 0 && n > g.shareBytes {
		return backpressure.ReasonTooLarge
	}
	return backpressure.ReasonNone
}

func (g *Gate) wait(ctx context.Context, elem *list.Element, w *waiter) (func(), backpressure.Reason, error) {
	timer := time.NewTimer(g.cfg.MaxWait)
	defer timer.Stop()
	var cause error
	select {
	case <-w.ready:
		return g.releaser(w.tenant, w.reqs, w.n+w.held), backpressure.ReasonNone, nil
	case <-timer.C:
		cause = fmt.Errorf("%w: waited %s", ErrGaveUp, g.cfg.MaxWait)
	case <-ctx.Done():
		cause = fmt.Errorf("%w: %w", ErrGaveUp, ctx.Err())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.granted {
		// Admitted between the timeout and taking the lock: the caller owns it now.
		return g.releaser(w.tenant, w.reqs, w.n+w.held), backpressure.ReasonNone, nil
	}
	r := orOverloaded(g.blockedLocked(w.tenant, w.reqs, w.n))
	g.waiters.Remove(elem)
	g.waitingLocked(w, -1)
	// Leaving may unblock the waiters behind us (we may have been the head).
	g.grantLocked()
	return nil, r, fmt.Errorf("%w (%s)", cause, r)
}

func orOverloaded(r backpressure.Reason) backpressure.Reason {
	if r == backpressure.ReasonNone {
		// It fits now but others queued first, or the queue is full: the gate is busy.
		return backpressure.ReasonOverloaded
	}
	return r
}
