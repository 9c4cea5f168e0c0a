package loadbench

import "context"

// gatewayCounters are the Sluice gateway's own counters that explain a flood phase: how
// long it took to answer the requests it refused and admitted (server side, from the
// handler's start), and how its inserts went. Upstream has none of these (all zero).
type gatewayCounters struct {
	refused, refusedS   float64
	accepted, acceptedS float64
	inserts, insertS    float64
	rowsInserted        float64
}

func (r *run) scrapeGateway(ctx context.Context) gatewayCounters {
	var c gatewayCounters
	if r.pipeline == Upstream {
		return c
	}
	m, err := r.gw.Metrics(ctx)
	if err != nil {
		return c
	}
	const dur = "otelcol_sluice_receiver_request_duration_"
	c.refused, c.refusedS = m.Sum(dur+"count", `outcome="refused"`), m.Sum(dur+"sum", `outcome="refused"`)
	c.accepted, c.acceptedS = m.Sum(dur+"count", `outcome="accepted"`), m.Sum(dur+"sum", `outcome="accepted"`)
	c.inserts, c.insertS = m.Sum("otelcol_sluice_exporter_insert_duration_count"), m.Sum("otelcol_sluice_exporter_insert_duration_sum")
	c.rowsInserted = m.Sum("otelcol_sluice_exporter_rows_inserted")
	return c
}

func (c gatewayCounters) minus(o gatewayCounters) gatewayCounters {
	return gatewayCounters{c.refused - o.refused, c.refusedS - o.refusedS, c.accepted - o.accepted, c.acceptedS - o.acceptedS,
		c.inserts - o.inserts, c.insertS - o.insertS, c.rowsInserted - o.rowsInserted}
}

// GatewayPhase is what the Sluice gateway's own metrics say about one phase (zero for
// upstream): mean server-side time of a refused and of an admitted request, and its inserts.
type GatewayPhase struct {
	RefusedMeanUs  float64 `json:"refused_mean_us"`
	AcceptedMeanMs float64 `json:"accepted_mean_ms"`
	Inserts        float64 `json:"inserts"`
	InsertMeanMs   float64 `json:"insert_mean_ms"`
	RowsPerInsert  float64 `json:"rows_per_insert"`
}

func (c gatewayCounters) phase() GatewayPhase {
	var g GatewayPhase
	if c.refused > 0 {
		g.RefusedMeanUs = c.refusedS * 1e6 / c.refused
	}
	if c.accepted > 0 {
		g.AcceptedMeanMs = c.acceptedS * 1e3 / c.accepted
	}
	g.Inserts = c.inserts
	if c.inserts > 0 {
		g.InsertMeanMs = c.insertS * 1e3 / c.inserts
		g.RowsPerInsert = c.rowsInserted / c.inserts
	}
	return g
}
