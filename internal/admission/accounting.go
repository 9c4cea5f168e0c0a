package admission

import "github.com/sluicehq/sluice/internal/backpressure"

// blockedLocked says which limit stops tenant from taking n bytes now, or backpressure.ReasonNone.
func (g *Gate) blockedLocked(tenant string, n int64) backpressure.Reason {
	if g.cfg.MaxRequests > 0 && g.requests+1 > g.cfg.MaxRequests {
		return backpressure.ReasonOverloaded
	}
	if g.cfg.MaxBytes > 0 && g.bytes+n > g.cfg.MaxBytes {
		return backpressure.ReasonInflightBytes
	}
	if u := g.tenants[tenant]; u != nil {
		if g.shareRequests > 0 && u.requests+1 > g.shareRequests {
			return backpressure.ReasonTenantShare
		}
		if g.shareBytes > 0 && u.bytes+n > g.shareBytes {
			return backpressure.ReasonTenantShare
		}
	}
	return backpressure.ReasonNone
}

func (g *Gate) takeLocked(tenant string, n int64) {
	g.requests++
	g.bytes += n
	u := g.tenants[tenant]
	if u == nil {
		u = &usage{}
		g.tenants[tenant] = u
	}
	u.requests++
	u.bytes += n
}

func (g *Gate) giveLocked(tenant string, n int64) {
	u := g.tenants[tenant]
	if u == nil || u.requests <= 0 || u.bytes < n || g.requests <= 0 || g.bytes < n {
		panic("admission: released more than held")
	}
	g.requests--
	g.bytes -= n
	u.requests--
	u.bytes -= n
	if u.requests == 0 {
		delete(g.tenants, tenant)
	}
}

// tenantKeyLocked folds tenants beyond MaxTenants into the overflow bucket. Idle tenants are
// forgotten (giveLocked), so the cap counts tenants with requests in flight.
func (g *Gate) tenantKeyLocked(tenant string) string {
	if g.cfg.MaxTenants <= 0 || g.tenants[tenant] != nil || len(g.tenants) < g.cfg.MaxTenants {
		return tenant
	}
	return OverflowTenant
}

// grantLocked admits waiters in arrival order. A waiter held back only by its tenant's share
// is skipped, so one greedy tenant cannot stall the others; a waiter held back by a global
// limit stops the scan, so a large request is not starved by smaller ones behind it.
func (g *Gate) grantLocked() {
	for e := g.waiters.Front(); e != nil; {
		w := e.Value.(*waiter)
		next := e.Next()
		switch g.blockedLocked(w.tenant, w.n) {
		case backpressure.ReasonNone:
			g.takeLocked(w.tenant, w.n)
			w.granted = true
			close(w.ready)
			g.waiters.Remove(e)
		case backpressure.ReasonTenantShare:
		default:
			return
		}
		e = next
	}
}

func (g *Gate) releaser(tenant string, n int64) func() {
	done := false
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if done {
			panic("admission: release called twice")
		}
		done = true
		g.giveLocked(tenant, n)
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
