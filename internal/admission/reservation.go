package admission

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// Reservation holds bytes for a request whose size is learnt while it is read (an HTTP body),
// before the request takes its slot. It grows as bytes arrive, so a client that claims a
// large body and sends nothing holds nothing, and the bytes held are the memory really used.
// With waiting enabled, its first bytes and its slot (Admit) wait in line; later growth is
// refused at once when it does not fit. A Reservation is used by one goroutine.
type Reservation struct {
	g      *Gate
	tenant string // the caller's tenant until keyed, then its key in g.tenants
	keyed  bool
	bytes  int64
	done   bool // admitted or cancelled
}

// Reserve starts a reservation for tenant holding nothing.
func (g *Gate) Reserve(tenant string) *Reservation {
	return &Reservation{g: g, tenant: tenant}
}

// Peek returns the refusal Acquire(ctx, tenant, 0) would give right now without waiting,
// or ReasonNone, and takes nothing: a transport can refuse a request before reading a body
// the gate has no slot for, which keeps refusals cheap under a flood.
func (g *Gate) Peek(tenant string) (backpressure.Reason, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := g.tenantKeyLocked(tenant)
	r := g.blockedLocked(key, 1, 0)
	if r == backpressure.ReasonNone && g.queued == 0 {
		return backpressure.ReasonNone, nil
	}
	return g.mayWaitLocked(key, r)
}

// MaxRequestBytes is the most one request may ever hold (MaxBytes or a tenant's share of
// it), or 0 without a bound; growing a reservation past it is refused with ReasonTooLarge.
func (g *Gate) MaxRequestBytes() int64 {
	if g.shareBytes > 0 {
		return g.shareBytes
	}
	return g.cfg.MaxBytes
}

// Bytes returns the bytes held.
func (r *Reservation) Bytes() int64 { return r.bytes }

// Grow takes n more bytes, or refuses with the limit that stops it and leaves the
// reservation as it was. A total no gate state could admit is ReasonTooLarge. The first
// bytes of a reservation wait like Acquire when waiting is enabled; later growth never
// waits, because readers that hold part of the gate and wait for more could wait on each
// other until MaxWait.
func (r *Reservation) Grow(ctx context.Context, n int64) (backpressure.Reason, error) {
	g := r.g
	if reason := g.neverFits(r.bytes + n); reason != backpressure.ReasonNone {
		return reason, fmt.Errorf("%w: request of more than %d bytes exceeds the %s limit", ErrRefused, r.bytes, reason)
	}
	g.mu.Lock()
	r.keyLocked()
	if r.bytes == 0 {
		// Nothing held: wait in line like any request (the release is not needed: the
		// reservation frees its bytes itself).
		if _, reason, err := g.acquireLocked(ctx, r.tenant, 0, n, 0); err != nil {
			return reason, err
		}
		r.bytes = n
		return backpressure.ReasonNone, nil
	}
	defer g.mu.Unlock()
	if reason := g.blockedLocked(r.tenant, 0, n); reason != backpressure.ReasonNone {
		return reason, refusedErrors[reason]
	}
	g.takeLocked(r.tenant, 0, n)
	r.bytes += n
	return backpressure.ReasonNone, nil
}

// Admit takes the request's slot for the bytes held, waiting like Acquire. On success the
// returned release frees the slot and the bytes; on refusal the bytes are freed at once.
// Either way the reservation is spent.
func (r *Reservation) Admit(ctx context.Context) (release func(), _ backpressure.Reason, _ error) {
	g := r.g
	g.mu.Lock()
	r.keyLocked()
	r.done = true
	rel, reason, err := g.acquireLocked(ctx, r.tenant, 1, 0, r.bytes)
	if err != nil {
		r.giveBack()
	}
	return rel, reason, err
}

// Cancel frees the bytes of a reservation that will not be admitted and returns how many;
// after Admit it does nothing, so it can be deferred.
func (r *Reservation) Cancel() int64 {
	if r.done {
		return 0
	}
	r.done = true
	return r.giveBack()
}

func (r *Reservation) giveBack() int64 {
	n := r.bytes
	if n == 0 {
		return 0
	}
	g := r.g
	g.mu.Lock()
	defer g.mu.Unlock()
	g.giveLocked(r.tenant, 0, n)
	r.bytes = 0
	g.grantLocked()
	return n
}

// keyLocked maps the tenant to its key once, when the reservation first touches the gate.
func (r *Reservation) keyLocked() {
	if !r.keyed {
		r.tenant = r.g.tenantKeyLocked(r.tenant)
		r.keyed = true
	}
}
