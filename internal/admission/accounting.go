package admission

import "github.com/sluicehq/sluice/internal/backpressure"

// blockedLocked says which limit stops tenant from taking reqs requests and n bytes now, or
// ReasonNone. The tenant's share comes first: while it holds, nothing else can admit the
// request, so it is the limit to name.
func (g *Gate) blockedLocked(tenant string, reqs int, n int64) backpressure.Reason {
	if u := g.tenants[tenant]; u != nil {
		if g.shareRequests > 0 && u.requests+reqs > g.shareRequests {
			return backpressure.ReasonTenantShare
		}
		if g.shareBytes > 0 && u.bytes+n > g.shareBytes {
			return backpressure.ReasonTenantShare
		}
	}
	if g.cfg.MaxRequests > 0 && g.requests+reqs > g.cfg.MaxRequests {
		return backpressure.ReasonOverloaded
	}
	if g.cfg.MaxBytes > 0 && g.bytes+n > g.cfg.MaxBytes {
		return backpressure.ReasonInflightBytes
	}
	return backpressure.ReasonNone
}

func (g *Gate) usageLocked(tenant string) *usage {
	u := g.tenants[tenant]
	if u == nil {
		u = &usage{}
		g.tenants[tenant] = u
	}
	return u
}

// forgetIdleLocked drops a tenant that holds and awaits nothing, so the MaxTenants cap counts
// active tenants only.
func (g *Gate) forgetIdleLocked(tenant string, u *usage) {
	if u.requests == 0 && u.bytes == 0 && u.waiting == 0 {
		delete(g.tenants, tenant)
	}
}

func (g *Gate) takeLocked(tenant string, reqs int, n int64) {
	g.requests += reqs
	g.bytes += n
	u := g.usageLocked(tenant)
	u.requests += reqs
	u.bytes += n
}

func (g *Gate) giveLocked(tenant string, reqs int, n int64) {
	u := g.tenants[tenant]
	if u == nil || u.requests < reqs || u.bytes < n || g.requests < reqs || g.bytes < n {
		panic("admission: released more than held")
	}
	g.requests -= reqs
	g.bytes -= n
	u.requests -= reqs
	u.bytes -= n
	g.forgetIdleLocked(tenant, u)
}

// waitingLocked counts w joining (+1) or leaving (-1) the queue.
func (g *Gate) waitingLocked(w *waiter, delta int) {
	u := g.usageLocked(w.tenant)
	u.waiting += delta
	if w.queued {
		g.queued += delta
	}
	g.forgetIdleLocked(w.tenant, u)
}

// tenantKeyLocked folds tenants beyond MaxTenants into the overflow bucket. Idle tenants are
// forgotten (forgetIdleLocked), so the cap counts tenants with requests in flight or waiting.
func (g *Gate) tenantKeyLocked(tenant string) string {
	if g.cfg.MaxTenants <= 0 || g.tenants[tenant] != nil || len(g.tenants) < g.cfg.MaxTenants {
		return tenant
	}
	return OverflowTenant
}

// grantLocked admits waiters in arrival order. A waiter held back only by its tenant's share
// is skipped, so one greedy tenant cannot stall the others, and gives up its MaxWaiting place
// if it held one; a waiter held back by a global limit stops the scan, so a large request is
// not starved by smaller ones behind it, and takes a place if it had none.
func (g *Gate) grantLocked() {
	for e := g.waiters.Front(); e != nil; {
		w := e.Value.(*waiter)
		next := e.Next()
		switch g.blockedLocked(w.tenant, w.reqs, w.n) {
		case backpressure.ReasonNone:
			g.waiters.Remove(e)
			g.waitingLocked(w, -1)
			g.takeLocked(w.tenant, w.reqs, w.n)
			w.granted = true
			close(w.ready)
		case backpressure.ReasonTenantShare:
			g.requeueLocked(w, false)
		default:
			g.requeueLocked(w, true)
			return
		}
		e = next
	}
}

// requeueLocked moves w in or out of the MaxWaiting places as what blocks it changes.
func (g *Gate) requeueLocked(w *waiter, queued bool) {
	if w.queued == queued {
		return
	}
	w.queued = queued
	if queued {
		g.queued++
	} else {
		g.queued--
	}
}

func (g *Gate) releaser(tenant string, reqs int, n int64) func() {
	done := false
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if done {
			panic("admission: release called twice")
		}
		done = true
		g.giveLocked(tenant, reqs, n)
		g.grantLocked()
	}
}

// Stats is a snapshot of what the gate holds.
type Stats struct {
	Requests int
	Bytes    int64
	Waiting  int
	Tenants  int
}

// Stats returns a consistent snapshot.
func (g *Gate) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{Requests: g.requests, Bytes: g.bytes, Waiting: g.waiters.Len(), Tenants: len(g.tenants)}
}
