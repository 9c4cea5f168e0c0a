package loadbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/loadgen"
)

// The flood scenario measures what a refusal costs the gateway (issue 12 §2): a fixed set of
// well-behaved senders alone first (the calm phase), then the same senders plus ten times as
// many that never back off (the flooded phase), against one gateway process. Each phase ends
// once every acknowledged item landed, so each phase's collector CPU covers the whole work of
// what it admitted, and the calm phase prices that work per item.
const (
	// floodGoodSenders behave like collector exporters: retry with backoff, honour hints.
	floodGoodSenders = benchSenders
	// floodFactor: flood senders per well-behaved sender.
	floodFactor = 10
	// floodConns: the flood arrives over this many gRPC connections (like that many flooding
	// clients), so no single HTTP/2 connection carries all of it. The well-behaved senders
	// have their own connection, as separate clients would.
	floodConns = 10
	// floodSlots is the Sluice gateway's max_inflight_requests: exactly the well-behaved
	// senders, so the calm phase is refused nothing and the flood is 10x what the gate admits.
	floodSlots = floodGoodSenders
	// floodSeqBase and goodSeqBase keep each phase's and each load's sequence numbers apart.
	goodSeqBase  = 1 << 40
	floodSeqBase = 2 << 40
)

// Flood is what the flood scenario adds to an Iteration. The Iteration's own counters sum
// both phases (so lost and duplicates cover every acknowledged item); its latencies are
// those of the well-behaved senders in the flooded phase, its refusal latency the flood's.
type Flood struct {
	CalmS float64 `json:"calm_s"`
	// CalmItemsPerSec: acknowledged items/s with the well-behaved senders alone.
	CalmItemsPerSec float64 `json:"calm_items_per_sec"`
	// CalmCPUusPerItem: collector CPU of the calm phase (load and catch-up) per item landed:
	// the price of admitted work, used to take it out of the flooded phase's CPU.
	CalmCPUusPerItem float64 `json:"calm_cpu_us_per_item"`
	CalmCPUs         float64 `json:"calm_cpu_s"`

	FloodS float64 `json:"flood_s"`
	// GoodItemsPerSec and FloodItemsPerSec: acknowledged items/s of the well-behaved and of
	// the flood senders in the flooded phase; TotalItemsPerSec both.
	GoodItemsPerSec  float64 `json:"good_items_per_sec"`
	FloodItemsPerSec float64 `json:"flood_items_per_sec"`
	TotalItemsPerSec float64 `json:"total_items_per_sec"`
	// Ratio is TotalItemsPerSec / CalmItemsPerSec (target ≥ 0.80); GoodRatio the same for
	// the well-behaved senders alone.
	Ratio     float64 `json:"admitted_ratio"`
	GoodRatio float64 `json:"good_ratio"`
	// Refused: refused attempts in the flooded phase (GoodRefused of them to well-behaved
	// senders), and per second.
	Refused       int64   `json:"refused"`
	GoodRefused   int64   `json:"good_refused"`
	RefusedPerSec float64 `json:"refused_per_sec"`
	// FloodCPUs: collector CPU of the flooded phase (load and catch-up); AdmittedCPUs what its
	// acknowledged items cost at the calm price; the rest, per refused attempt, is
	// CPUusPerRefusal (target ≤ 30).
	FloodCPUs       float64 `json:"flood_cpu_s"`
	AdmittedCPUs    float64 `json:"admitted_cpu_s"`
	CPUusPerRefusal float64 `json:"cpu_us_per_refusal"`
	// ClientCPUs of the flooded phase: the load generator shares the machine's cores.
	FloodClientCPUs float64 `json:"flood_client_cpu_s"`
	// CalmGateway and FloodGateway: the Sluice gateway's own view of each phase.
	CalmGateway  GatewayPhase `json:"calm_gateway"`
	FloodGateway GatewayPhase `json:"flood_gateway"`
}

func flood(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
	r, err := e.newRun("flood", pipeline, iter, loadgen.Traces, Gateway{Lanes: true, MaxInflightRequests: floodSlots})
	if err != nil {
		return nil, err
	}
	defer r.close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go r.sampler(stop, &wg)
	it, err := r.floodPhases(ctx)
	close(stop)
	wg.Wait()
	r.it.Timeline = r.timeline
	return it, err
}

// floodPhases runs the calm phase, then the flooded one, and fills the iteration.
func (r *run) floodPhases(ctx context.Context) (*Iteration, error) {
	e := r.e
	good := baseLoad(e, r, loadgen.Traces, floodGoodSenders, 15*time.Second)
	calm, err := r.phase(ctx, []loadgen.Config{good}, loadgen.Sample{}, 0)
	r.addPhase(calm)
	if err != nil {
		return r.it, fmt.Errorf("calm phase: %w", err)
	}
	good.Duration, good.SeqBase = e.dur(20*time.Second), goodSeqBase
	loads := []loadgen.Config{good}
	for i := range floodConns {
		f := baseLoad(e, r, loadgen.Traces, floodFactor*floodGoodSenders/floodConns, 20*time.Second)
		f.Retry, f.SeqBase = loadgen.FloodRetry(), floodSeqBase+uint64(i)<<36
		loads = append(loads, f)
	}
	base := loadgen.Sample{ItemsAcked: calm.acked(), Refused: calm.refused()}
	flooded, err := r.phase(ctx, loads, base, calm.acked())
	r.addPhase(flooded)
	if err != nil {
		return r.it, fmt.Errorf("flooded phase: %w", err)
	}
	r.it.Flood = floodStats(calm, flooded)
	gr := flooded.results[0]
	r.it.P50us, r.it.P95us, r.it.P99us = gr.LatencyP50us, gr.LatencyP95us, gr.LatencyP99us
	var refusalP99 float64
	for _, res := range flooded.results[1:] {
		refusalP99 = max(refusalP99, res.RefusalLatencyP99us)
	}
	r.it.RefusalP99 = refusalP99
	r.it.ItemsPerSec = r.it.Flood.TotalItemsPerSec
	r.finishCounts(ctx, flooded.landed)
	return r.it, nil
}

// phaseRun is one phase of a run: its loads' results, how long they offered load, and the
// collector's CPU from the start of the load until every item acknowledged so far landed.
type phaseRun struct {
	results  []*loadgen.Result
	loadS    float64
	catchUpS float64
	cpuS     float64
	landed   Landed
	// clientCPUs: this process's CPU while the loads ran.
	clientCPUs float64
	gateway    GatewayPhase
}

func (p phaseRun) acked() int64 {
	var n int64
	for _, res := range p.results {
		n += res.ItemsAcked
	}
	return n
}

func (p phaseRun) refused() int64 {
	var n int64
	for _, res := range p.results {
		n += res.Attempts - res.Accepted
	}
	return n
}

// phase runs loads at once, then waits until ackedBefore plus what they acknowledged landed.
func (r *run) phase(ctx context.Context, loads []loadgen.Config, base loadgen.Sample, ackedBefore int64) (phaseRun, error) {
	var p phaseRun
	countersBefore := r.scrapeGateway(ctx)
	before, _ := ReadProc(r.gw.PID())
	results, clientCPU, err := r.runLoads(ctx, loads, nil, base)
	if err != nil {
		return p, err
	}
	p.results, p.clientCPUs = results, clientCPU
	for _, res := range results {
		p.loadS = max(p.loadS, res.Duration.Seconds())
	}
	cctx, cancel := context.WithTimeout(ctx, r.e.dur(3*time.Minute)+time.Minute)
	landed, took, err := WaitLanded(cctx, r.e.Conn, r.db, loadgen.Traces, uint64(ackedBefore+p.acked()), 20*time.Second)
	cancel()
	if err != nil {
		r.it.Notes += fmt.Sprintf("catch-up: %v. ", err)
	}
	after, _ := ReadProc(r.gw.PID())
	p.cpuS, p.catchUpS, p.landed = after.CPUSeconds-before.CPUSeconds, took.Seconds(), landed
	p.gateway = r.scrapeGateway(ctx).minus(countersBefore).phase()
	return p, nil
}

// addPhase adds a phase's counters to the iteration's.
func (r *run) addPhase(p phaseRun) {
	it := r.it
	it.addResults(p.results)
	it.ClientCPUs += p.clientCPUs
	it.DurationS += p.loadS
	it.CatchUpS += p.catchUpS
	it.CollectorCPUs += p.cpuS
}

// finishCounts fills landed, lost, duplicates, parts, CPU per item and peak RSS once the last
// phase caught up.
func (r *run) finishCounts(ctx context.Context, landed Landed) {
	it := r.it
	it.Landed, it.Duplicates = landed.Unique, landed.Duplicates()
	if int64(landed.Unique) < it.ItemsAcked {
		it.Lost = it.ItemsAcked - int64(landed.Unique)
	}
	if n, err := CountInsertParts(ctx, r.e.Conn, r.db); err == nil && it.DurationS > 0 {
		it.PartsPerMin = float64(n) / (it.DurationS / 60)
	}
	if landed.Unique > 0 {
		it.CPUusPerItem = it.CollectorCPUs * 1e6 / float64(landed.Unique)
	}
	if ps, err := ReadProc(r.gw.PID()); err == nil {
		it.PeakRSSMiB = float64(ps.HWMBytes) / (1 << 20)
	}
}

// floodStats compares the flooded phase with the calm one. The refusal's CPU is what the
// flooded phase cost beyond its admitted items priced at the calm phase's CPU per item:
// both phases run on the same process, and both are measured until their items landed.
func floodStats(calm, flooded phaseRun) *Flood {
	f := &Flood{CalmS: calm.loadS, CalmCPUs: calm.cpuS, FloodS: flooded.loadS, FloodCPUs: flooded.cpuS,
		CalmGateway: calm.gateway, FloodGateway: flooded.gateway}
	calmAcked := calm.acked()
	if calm.loadS > 0 {
		f.CalmItemsPerSec = float64(calmAcked) / calm.loadS
	}
	if calm.landed.Unique > 0 {
		f.CalmCPUusPerItem = calm.cpuS * 1e6 / float64(calm.landed.Unique)
	}
	good := flooded.results[0]
	f.GoodRefused = good.Attempts - good.Accepted
	f.FloodClientCPUs = flooded.clientCPUs
	var floodAcked int64
	for _, res := range flooded.results[1:] {
		floodAcked += res.ItemsAcked
	}
	f.Refused = flooded.refused()
	if flooded.loadS > 0 {
		f.GoodItemsPerSec = float64(good.ItemsAcked) / flooded.loadS
		f.FloodItemsPerSec = float64(floodAcked) / flooded.loadS
		f.TotalItemsPerSec = f.GoodItemsPerSec + f.FloodItemsPerSec
		f.RefusedPerSec = float64(f.Refused) / flooded.loadS
	}
	if f.CalmItemsPerSec > 0 {
		f.Ratio = f.TotalItemsPerSec / f.CalmItemsPerSec
		f.GoodRatio = f.GoodItemsPerSec / f.CalmItemsPerSec
	}
	f.AdmittedCPUs = float64(flooded.acked()) * f.CalmCPUusPerItem / 1e6
	if f.Refused > 0 {
		f.CPUusPerRefusal = (f.FloodCPUs - f.AdmittedCPUs) * 1e6 / float64(f.Refused)
	}
	return f
}
