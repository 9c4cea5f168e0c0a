package loadbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadgen"
)

// Pipeline names: Sluice acknowledging after the insert (on_insert), Sluice acknowledging
// once rows are in the lanes' write-ahead log (on_wal), and the stock pipeline.
const (
	Sluice    = "sluice"
	SluiceWAL = "sluice-wal"
	Upstream  = "upstream"
)

// Env is what every scenario runs against.
type Env struct {
	SluiceBin, UpstreamBin string
	CH                     *chlocal.Server
	Conn                   driver.Conn
	OutDir                 string
	// Scale multiplies durations (1 = default, 0.3 for a quick run).
	Scale float64
	// Lanes: the sluice binary accepts the exporter's lanes keys.
	Lanes bool
	// CollectorEnv is added to the environment of every collector the scenarios start
	// (GOGC, GOMEMLIMIT), not to the load generator's.
	CollectorEnv []string
	Log          func(format string, args ...any)
}

func (e *Env) dur(d time.Duration) time.Duration {
	if e.Scale <= 0 {
		return d
	}
	return time.Duration(float64(d) * e.Scale)
}

// Point is one sample of the timeline of an iteration.
type Point struct {
	T            float64 `json:"t"`
	ItemsPerSec  float64 `json:"items_per_sec"`
	RefusedPerS  float64 `json:"refused_per_sec"`
	RSSMiB       float64 `json:"rss_mib"`
	QueueDepth   float64 `json:"queue_depth"`
	CollectorCPU float64 `json:"collector_cpu_s"`
}

// Iteration is one pipeline's run of one scenario: the JSON object of the report.
type Iteration struct {
	Scenario  string `json:"scenario"`
	Pipeline  string `json:"pipeline"`
	Iteration int    `json:"iteration"`
	Signal    string `json:"signal"`

	Requests int64            `json:"requests"`
	Attempts int64            `json:"attempts"`
	Accepted int64            `json:"accepted"`
	Refused  map[string]int64 `json:"refused_by_status"`
	// RefusedWithoutHint: 429/503 refusals with no Retry-After / RetryInfo.
	RefusedWithoutHint int64 `json:"refused_without_hint"`

	ItemsSent   int64  `json:"items_sent"`
	ItemsAcked  int64  `json:"items_acknowledged"`
	ItemsFailed int64  `json:"items_failed"`
	Landed      uint64 `json:"items_landed"`
	Duplicates  uint64 `json:"duplicates"`
	// Lost: acknowledged but not landed after catch-up.
	Lost int64 `json:"lost"`

	DurationS   float64 `json:"duration_s"`
	ItemsPerSec float64 `json:"items_per_sec"`
	P50us       float64 `json:"latency_p50_us"`
	P95us       float64 `json:"latency_p95_us"`
	P99us       float64 `json:"latency_p99_us"`
	RefusalP99  float64 `json:"refusal_latency_p99_us"`
	// CatchUpS: from the end of the load until every acknowledged item had landed.
	CatchUpS float64 `json:"catch_up_s"`

	CollectorCPUs  float64 `json:"collector_cpu_s"`
	CPUusPerItem   float64 `json:"cpu_us_per_item"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	AgentCPUs      float64 `json:"agent_cpu_s,omitempty"`
	AgentPeakRSS   float64 `json:"agent_peak_rss_mib,omitempty"`
	ClientCPUs     float64 `json:"client_cpu_s"`
	RequestBytes   int     `json:"request_bytes"`
	BudgetMiB      float64 `json:"budget_mib,omitempty"`
	QuietP99us     float64 `json:"quiet_tenants_p99_us,omitempty"`
	QuietItemsPerS float64 `json:"quiet_tenants_items_per_sec,omitempty"`
	NoisyItemsPerS float64 `json:"noisy_tenant_items_per_sec,omitempty"`
	// PartsPerMin: parts the run's inserts created in ClickHouse (level 0, merged or not) per
	// minute of load; fewer, larger inserts mean fewer parts to merge.
	PartsPerMin float64 `json:"clickhouse_parts_per_min"`
	// ClickHousePeakRSSMiB is the highest RSS of the ClickHouse process sampled during the run.
	ClickHousePeakRSSMiB float64 `json:"clickhouse_peak_rss_mib"`
	Notes                string  `json:"notes,omitempty"`
	// Flood: the flood scenario's two phases (flood.go).
	Flood *Flood `json:"flood,omitempty"`

	Timeline []Point `json:"timeline"`
}

// Scenario is one named load shape with an optional fault.
type Scenario struct {
	Name string
	Desc string
	Run  func(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error)
}

// Scenarios are the ones `make bench` runs, in order.
func Scenarios() []Scenario {
	return []Scenario{
		{"steady_traces_8", "flat-out traces, 8 gRPC senders, 100 spans/request", steady(loadgen.Traces, 8)},
		{"steady_traces", "flat-out traces, 32 gRPC senders, 100 spans/request", steady(loadgen.Traces, benchSenders)},
		{"steady_traces_128", "flat-out traces, 128 gRPC senders, 100 spans/request", steady(loadgen.Traces, 128)},
		{"steady_logs", "flat-out logs, 32 gRPC senders, 100 records/request", steady(loadgen.Logs, benchSenders)},
		{"paced_traces", "traces at 50 000 spans/s (500 requests/s of 100 spans) from 32 gRPC senders: latency at a load every pipeline sustains", paced(loadgen.Traces, benchSenders, 500)},
		{"overload", "320 senders against max_inflight_requests 32 (10x)", overload},
		{"flood", "32 well-behaved senders alone for 15 s, then for 20 s with 320 more that resend at once on refusal (10 connections), against max_inflight_requests 32; one gateway process for both phases", flood},
		{"stall", "ClickHouse frozen (SIGSTOP) for 20 s mid-run, then resumed", stall},
		{"outage", "ClickHouse killed mid-run and restarted 5 s later", outage(5 * time.Second)},
		{"outage_60s", "ClickHouse killed mid-run and restarted 60 s later", outage(60 * time.Second)},
		{"noisy_tenant", "one tenant flat out with 64 senders, 4 quiet tenants at 20 req/s each from 4 senders each (lanes and admission shares by X-Scope-OrgID)", noisy},
		{"chain", "client -> otelcol-sluice agent (otlp exporter, retry + queue) -> gateway", chain},
	}
}

// Budgets of the sluice gateway in the bench: what RSS must stay within (+ 64 MiB).
const (
	benchInflightBytes = 64 << 20
	benchMemoryBudget  = 128 << 20
	// benchWALBytes is the sluice-wal gateway's disk budget: less than a 60 s outage at full
	// speed, so the outage shows both buffering and refusing once the log is full.
	benchWALBytes = 1 << 30
	// benchSenders is the concurrency of the steady, stall, outage and chain loads.
	benchSenders = 32
)

type run struct {
	e        *Env
	pipeline string
	it       *Iteration
	db       string
	gw       *Collector
	agent    *Collector
	gwPorts  Ports
	dir      string

	mu       sync.Mutex
	last     loadgen.Sample
	timeline []Point
}

// EnsureClickHouse restarts ClickHouse if it died (saving the end of its log into OutDir) and
// reports whether it had.
func (e *Env) EnsureClickHouse(ctx context.Context) (bool, error) {
	select {
	case <-e.CH.Done():
	default:
		return false, nil
	}
	path := filepath.Join(e.OutDir, fmt.Sprintf("clickhouse-died-%s.log", time.Now().Format("150405")))
	_ = os.WriteFile(path, []byte(e.CH.LogTail()), 0o644)
	if e.Log != nil {
		e.Log("ClickHouse had died; log tail saved to %s; restarting it", path)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return true, e.CH.Restart(rctx)
}

func (e *Env) newRun(scenario, pipeline string, iter int, signal loadgen.Signal, g Gateway) (*run, error) {
	if _, err := e.EnsureClickHouse(context.Background()); err != nil {
		return nil, err
	}
	r := &run{e: e, pipeline: pipeline, db: fmt.Sprintf("bench_%s_%s_%d_%d", scenario, pipeline, iter, time.Now().Unix())}
	r.it = &Iteration{Scenario: scenario, Pipeline: pipeline, Iteration: iter, Signal: string(signal)}
	r.dir = filepath.Join(e.OutDir, "runs", fmt.Sprintf("%s-%s-%d", scenario, pipeline, iter))
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := NewPorts()
	if err != nil {
		return nil, err
	}
	r.gwPorts = ports
	g.Ports, g.Endpoint, g.Database = ports, e.CH.Endpoint(), r.db
	var cfg, bin string
	if pipeline == SluiceWAL {
		g.Acknowledge = "on_wal"
		g.WALDirectory = filepath.Join(r.dir, "wal")
		g.WALMaxBytes = benchWALBytes
		pipeline = Sluice
	}
	if pipeline == Sluice {
		g.Lanes = g.Lanes && e.Lanes
		if !g.Lanes {
			g.Acknowledge, g.WALDirectory = "", ""
		}
		if g.Lanes && g.MemoryBudget == 0 {
			g.MemoryBudget = benchMemoryBudget
		}
		// Lanes flush with the exporter's defaults (20000 rows, 1 s, and with on_insert
		// once arrivals pause for 20 ms: group commit), as a user would run them.
		if g.MaxInflightBytes == 0 {
			g.MaxInflightBytes = benchInflightBytes
		}
		cfg, bin = SluiceConfig(g), e.SluiceBin
		if e.Lanes {
			r.it.BudgetMiB = float64(g.MaxInflightBytes+g.MemoryBudget) / (1 << 20)
		}
	} else {
		cfg, bin = UpstreamConfig(g), e.UpstreamBin
	}
	r.gw, err = StartCollector(bin, "gateway", r.dir, cfg, ports.Metrics, e.CollectorEnv...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.gw.WaitListening(ctx, ports.GRPCAddr()); err != nil {
		r.gw.Stop(10 * time.Second)
		return nil, err
	}
	return r, nil
}

// sampler records the timeline every 500 ms until stop is closed.
func (r *run) sampler(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	start := time.Now()
	var prev loadgen.Sample
	prevT := 0.0
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
		}
		t := time.Since(start).Seconds()
		p := Point{T: t}
		if ps, err := ReadProc(r.gw.PID()); err == nil {
			p.RSSMiB = float64(ps.RSSBytes) / (1 << 20)
			p.CollectorCPU = ps.CPUSeconds
		}
		if ps, err := ReadProc(r.e.CH.PID()); err == nil {
			r.mu.Lock()
			r.it.ClickHousePeakRSSMiB = max(r.it.ClickHousePeakRSSMiB, float64(ps.RSSBytes)/(1<<20))
			r.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if m, err := r.gw.Metrics(ctx); err == nil {
			if r.pipeline != Upstream {
				p.QueueDepth = m.Sum("otelcol_sluice_exporter_queue_rows")
			} else {
				p.QueueDepth = m.Sum("otelcol_exporter_queue_size")
			}
		}
		cancel()
		r.mu.Lock()
		cur := r.last
		r.mu.Unlock()
		if dt := t - prevT; dt > 0 {
			p.ItemsPerSec = float64(cur.ItemsAcked-prev.ItemsAcked) / dt
			p.RefusedPerS = float64(cur.Refused-prev.Refused) / dt
		}
		prev, prevT = cur, t
		r.mu.Lock()
		r.timeline = append(r.timeline, p)
		r.mu.Unlock()
	}
}

func (r *run) onSample(s loadgen.Sample) {
	r.mu.Lock()
	r.last = s
	r.mu.Unlock()
}

// execute runs the load (and fault, concurrently), catches up, and fills the iteration.
func (r *run) execute(ctx context.Context, cfgs []loadgen.Config, fault func(ctx context.Context)) ([]*loadgen.Result, error) {
	stop := make(chan struct{})
	var swg sync.WaitGroup
	swg.Add(1)
	go r.sampler(stop, &swg)
	before, _ := ReadProc(r.gw.PID())
	var agentBefore ProcStats
	if r.agent != nil {
		agentBefore, _ = ReadProc(r.agent.PID())
	}
	results, clientCPU, err := r.runLoads(ctx, cfgs, fault, loadgen.Sample{})
	if err != nil {
		close(stop)
		swg.Wait()
		return nil, err
	}
	it := r.it
	it.Refused = nil
	it.addResults(results)
	var acked int64
	var dur time.Duration
	for _, res := range results {
		dur = max(dur, res.Duration)
		acked += res.ItemsAcked
	}
	it.DurationS = dur.Seconds()
	it.ClientCPUs = clientCPU
	main := results[0]
	it.P50us, it.P95us, it.P99us, it.RefusalP99 = main.LatencyP50us, main.LatencyP95us, main.LatencyP99us, main.RefusalLatencyP99us
	if len(results) == 1 {
		it.ItemsPerSec = main.ItemsPerSec
	} else if dur > 0 {
		it.ItemsPerSec = float64(acked) / dur.Seconds()
	}
	// Catch up: until every acknowledged item landed, or nothing moves for 20 s.
	cctx, cancel := context.WithTimeout(ctx, r.e.dur(3*time.Minute)+time.Minute)
	landed, took, err := WaitLanded(cctx, r.e.Conn, r.db, loadgen.Signal(it.Signal), uint64(acked), 20*time.Second)
	cancel()
	if err != nil {
		it.Notes += fmt.Sprintf("catch-up: %v. ", err)
	}
	it.CatchUpS = took.Seconds()
	it.Landed, it.Duplicates = landed.Unique, landed.Duplicates()
	if int64(landed.Unique) < acked {
		it.Lost = acked - int64(landed.Unique)
	}
	if n, err := CountInsertParts(ctx, r.e.Conn, r.db); err == nil && dur > 0 {
		it.PartsPerMin = float64(n) / dur.Minutes()
	}
	after, _ := ReadProc(r.gw.PID())
	it.CollectorCPUs = after.CPUSeconds - before.CPUSeconds
	it.PeakRSSMiB = float64(after.HWMBytes) / (1 << 20)
	if landed.Unique > 0 {
		it.CPUusPerItem = it.CollectorCPUs * 1e6 / float64(landed.Unique)
	}
	if r.agent != nil {
		a, _ := ReadProc(r.agent.PID())
		it.AgentCPUs = a.CPUSeconds - agentBefore.CPUSeconds
		it.AgentPeakRSS = float64(a.HWMBytes) / (1 << 20)
	}
	close(stop)
	swg.Wait()
	it.Timeline = r.timeline
	return results, nil
}

// runLoads runs every load at once (and fault, concurrently) and returns when all are done,
// with the CPU this process used meanwhile: each load's ClientCPUSeconds is the whole
// process's, so summing them would count it once per load. The sampler sees their counters
// summed, plus base (what earlier phases of the same run did, so the timeline does not
// restart from zero).
func (r *run) runLoads(ctx context.Context, cfgs []loadgen.Config, fault func(ctx context.Context), base loadgen.Sample) ([]*loadgen.Result, float64, error) {
	self, _ := ReadProc(os.Getpid())
	results := make([]*loadgen.Result, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	var aggMu sync.Mutex
	parts := make([]loadgen.Sample, len(cfgs))
	for i, cfg := range cfgs {
		cfg.OnSample = func(s loadgen.Sample) {
			aggMu.Lock()
			parts[i] = s
			sum := loadgen.Sample{ItemsAcked: base.ItemsAcked, Refused: base.Refused}
			for _, p := range parts {
				sum.ItemsAcked += p.ItemsAcked
				sum.Refused += p.Refused
			}
			aggMu.Unlock()
			r.onSample(sum)
		}
		cfg.SampleEvery = 250 * time.Millisecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = loadgen.Run(ctx, cfg)
		}()
	}
	if fault != nil {
		fault(ctx)
	}
	wg.Wait()
	after, _ := ReadProc(os.Getpid())
	return results, after.CPUSeconds - self.CPUSeconds, errors.Join(errs...)
}

func (r *run) close() {
	if r.agent != nil {
		r.agent.Stop(30 * time.Second)
	}
	r.gw.Stop(30 * time.Second)
	// Drop the iteration's database: the bench must not fill the disk.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = r.e.Conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS `%s`", r.db))
}

func baseLoad(e *Env, r *run, signal loadgen.Signal, senders int, d time.Duration) loadgen.Config {
	return loadgen.Config{
		Protocol: "grpc", Endpoint: r.gwPorts.GRPCAddr(), Signal: signal,
		Shape:   loadgen.Shape{ItemsPerRequest: 100, Attributes: 6},
		Senders: senders, Duration: e.dur(d), Retry: loadgen.DefaultRetry(), Timeout: 30 * time.Second,
	}
}

func steady(signal loadgen.Signal, senders int) func(context.Context, *Env, string, int) (*Iteration, error) {
	return func(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
		r, err := e.newRun(fmt.Sprintf("steady_%s_%d", signal, senders), pipeline, iter, signal, Gateway{Lanes: true})
		if err != nil {
			return nil, err
		}
		defer r.close()
		_, err = r.execute(ctx, []loadgen.Config{baseLoad(e, r, signal, senders, 20*time.Second)}, nil)
		return r.it, err
	}
}

// paced offers rate requests/s from senders: flat out, the latency of closed-loop senders is
// their number over the throughput (Little's law) whatever the pipeline, so this shows what a
// client waits at a load the pipelines all sustain.
func paced(signal loadgen.Signal, senders int, rate float64) func(context.Context, *Env, string, int) (*Iteration, error) {
	return func(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
		r, err := e.newRun(fmt.Sprintf("paced_%s", signal), pipeline, iter, signal, Gateway{Lanes: true})
		if err != nil {
			return nil, err
		}
		defer r.close()
		cfg := baseLoad(e, r, signal, senders, 20*time.Second)
		cfg.Rate = rate
		_, err = r.execute(ctx, []loadgen.Config{cfg}, nil)
		return r.it, err
	}
}

func overload(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
	r, err := e.newRun("overload", pipeline, iter, loadgen.Traces, Gateway{Lanes: true, MaxInflightRequests: benchSenders})
	if err != nil {
		return nil, err
	}
	defer r.close()
	_, err = r.execute(ctx, []loadgen.Config{baseLoad(e, r, loadgen.Traces, 10*benchSenders, 20*time.Second)}, nil)
	return r.it, err
}

func stall(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
	r, err := e.newRun("stall", pipeline, iter, loadgen.Traces, Gateway{Lanes: true})
	if err != nil {
		return nil, err
	}
	defer r.close()
	cfg := baseLoad(e, r, loadgen.Traces, benchSenders, 35*time.Second)
	_, err = r.execute(ctx, []loadgen.Config{cfg}, func(ctx context.Context) {
		sleep(ctx, e.dur(5*time.Second))
		if err := e.CH.Pause(); err != nil {
			r.it.Notes += "pause: " + err.Error() + ". "
			return
		}
		sleep(ctx, 20*time.Second) // the stall itself is never scaled
		if err := e.CH.Resume(); err != nil {
			r.it.Notes += "resume: " + err.Error() + ". "
		}
	})
	return r.it, err
}

// outage kills ClickHouse 5 s into the load and restarts it after down (never scaled); the
// load runs 20 s past the restart.
func outage(down time.Duration) func(context.Context, *Env, string, int) (*Iteration, error) {
	return func(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
		return runOutage(ctx, e, pipeline, iter, down)
	}
}

func runOutage(ctx context.Context, e *Env, pipeline string, iter int, down time.Duration) (*Iteration, error) {
	r, err := e.newRun(fmt.Sprintf("outage_%ds", int(down.Seconds())), pipeline, iter, loadgen.Traces, Gateway{Lanes: true})
	if err != nil {
		return nil, err
	}
	defer r.close()
	cfg := baseLoad(e, r, loadgen.Traces, benchSenders, 20*time.Second)
	cfg.Duration += down
	_, err = r.execute(ctx, []loadgen.Config{cfg}, func(ctx context.Context) {
		sleep(ctx, e.dur(5*time.Second))
		if err := e.CH.Kill(); err != nil {
			r.it.Notes += "kill: " + err.Error() + ". "
			return
		}
		sleep(ctx, down)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := e.CH.Restart(rctx); err != nil {
			r.it.Notes += "restart: " + err.Error() + ". "
		}
	})
	return r.it, err
}

func noisy(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
	r, err := e.newRun("noisy_tenant", pipeline, iter, loadgen.Traces,
		Gateway{Lanes: true, TenantKey: "X-Scope-OrgID", TenantShare: 0.5})
	if err != nil {
		return nil, err
	}
	defer r.close()
	quiet := baseLoad(e, r, loadgen.Traces, 16, 20*time.Second)
	quiet.Tenants, quiet.TenantKey, quiet.Rate = []string{"quiet-1", "quiet-2", "quiet-3", "quiet-4"}, "X-Scope-OrgID", 80
	loud := baseLoad(e, r, loadgen.Traces, 2*benchSenders, 20*time.Second)
	loud.Tenants, loud.TenantKey, loud.SeqBase = []string{"noisy"}, "X-Scope-OrgID", 1<<40
	res, err := r.execute(ctx, []loadgen.Config{quiet, loud}, nil)
	if err != nil {
		return r.it, err
	}
	r.it.QuietP99us, r.it.QuietItemsPerS, r.it.NoisyItemsPerS = res[0].LatencyP99us, res[0].ItemsPerSec, res[1].ItemsPerSec
	return r.it, nil
}

func chain(ctx context.Context, e *Env, pipeline string, iter int) (*Iteration, error) {
	r, err := e.newRun("chain", pipeline, iter, loadgen.Traces, Gateway{Lanes: true, MaxInflightRequests: 4})
	if err != nil {
		return nil, err
	}
	defer r.close()
	aPorts, err := NewPorts()
	if err != nil {
		return nil, err
	}
	r.agent, err = StartCollector(e.SluiceBin, "agent", r.dir, AgentConfig(aPorts, r.gwPorts.GRPCAddr(), "", 1000, 10), aPorts.Metrics, e.CollectorEnv...)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := r.agent.WaitListening(wctx, aPorts.GRPCAddr()); err != nil {
		return nil, err
	}
	cfg := baseLoad(e, r, loadgen.Traces, benchSenders, 20*time.Second)
	cfg.Endpoint = aPorts.GRPCAddr()
	if _, err := r.execute(ctx, []loadgen.Config{cfg}, nil); err != nil {
		return r.it, err
	}
	mctx, mcancel := context.WithTimeout(ctx, 5*time.Second)
	defer mcancel()
	if m, err := r.gw.Metrics(mctx); err == nil && pipeline != Upstream {
		r.it.Notes += fmt.Sprintf("gateway refused %.0f requests from the agent. ", m.Sum("otelcol_sluice_receiver_requests", `outcome="refused"`))
	}
	return r.it, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// addResults adds the loads' request and item counters to the iteration's.
func (it *Iteration) addResults(results []*loadgen.Result) {
	if it.Refused == nil {
		it.Refused = map[string]int64{}
	}
	for _, res := range results {
		it.Requests += res.Requests
		it.Attempts += res.Attempts
		it.Accepted += res.Accepted
		for k, v := range res.Refused {
			it.Refused[k] += v
		}
		it.RefusedWithoutHint += res.RefusedWithoutHint
		it.ItemsSent += res.ItemsSent
		it.ItemsAcked += res.ItemsAcked
		it.ItemsFailed += res.ItemsFailed
		it.RequestBytes = res.RequestBytes
	}
}
