package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is one load run.
type Config struct {
	// Protocol is "grpc" (Endpoint host:port) or "http" (Endpoint http://host:port).
	Protocol string
	Endpoint string
	Signal   Signal
	Shape    Shape
	// Senders is the number of concurrent senders, each like one exporter with one request
	// in flight.
	Senders int
	// Rate is the target requests per second across all senders; 0 sends flat out.
	Rate float64
	// Duration is how long new data is offered; Requests, if positive, stops after that many
	// distinct requests instead (whichever comes first).
	Duration time.Duration
	Requests int64
	// Tenants spread across senders (sender i sends as Tenants[i % len]); empty: no tenant.
	Tenants []string
	// TenantOf, if set, overrides Tenants: it names the tenant of sender i.
	TenantOf func(sender int) string
	// TenantKey is the gRPC metadata key / HTTP header carrying the tenant ("" to send
	// the tenant only in the resource, with Shape.TenantInResource).
	TenantKey string
	// Retry: like the collector's exporterhelper retry_on_failure.
	Retry RetryPolicy
	// Timeout bounds one attempt.
	Timeout time.Duration
	// SeqBase is added to every sequence number, so runs into one table do not collide.
	SeqBase uint64
	// OnSample, if set, is called every SampleEvery with cumulative counters.
	OnSample    func(Sample)
	SampleEvery time.Duration
}

// RetryPolicy mirrors configretry.BackOffConfig: exponential backoff with jitter; a server
// hint is honoured as a lower bound of the wait, as the collector's exporters do.
type RetryPolicy struct {
	Enabled             bool
	InitialInterval     time.Duration
	MaxInterval         time.Duration
	Multiplier          float64
	RandomizationFactor float64
	// MaxElapsedTime gives up on a request after this long (0: never).
	MaxElapsedTime time.Duration
	// Flood makes a sender that ignores backpressure: it resends a refused request at once,
	// whatever the refusal and its hint, until it is accepted or the offer period ends (then
	// it gives up on it, so a flood stops with its Duration). The other fields are unused.
	Flood bool
}

// DefaultRetry is the collector's default retry_on_failure, with a shorter first interval
// so small runs finish quickly.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Enabled: true, InitialInterval: 200 * time.Millisecond, MaxInterval: 5 * time.Second,
		Multiplier: 1.5, RandomizationFactor: 0.5, MaxElapsedTime: 5 * time.Minute}
}

// FloodRetry is the policy of a flooding client (see RetryPolicy.Flood).
func FloodRetry() RetryPolicy { return RetryPolicy{Flood: true} }

// Sample is a snapshot of cumulative counters during a run.
type Sample struct {
	Elapsed         time.Duration
	Attempts        int64
	Accepted        int64
	Refused         int64
	ItemsAcked      int64
	ItemsSent       int64
	RefusedByStatus map[string]int64
}

// Result is the outcome of a run.
type Result struct {
	Protocol string `json:"protocol"`
	Signal   string `json:"signal"`
	Senders  int    `json:"senders"`
	// Requests is the number of distinct requests offered (each with fresh items);
	// Attempts counts every call including retries.
	Requests int64 `json:"requests"`
	Attempts int64 `json:"attempts"`
	Accepted int64 `json:"accepted"`
	// Refused counts refused attempts by status ("429", "RESOURCE_EXHAUSTED", "transport").
	Refused map[string]int64 `json:"refused"`
	// RefusedWithoutHint counts retryable refusals (429/503, RESOURCE_EXHAUSTED/UNAVAILABLE)
	// that came without Retry-After / RetryInfo.
	RefusedWithoutHint int64 `json:"refused_without_hint"`
	// ItemsSent: items in distinct requests offered. ItemsAcked: accepted by the server
	// (minus partial-success rejections). ItemsFailed: given up on (not retryable or
	// retries exhausted); ItemsRejected: partial-success rejections.
	ItemsSent     int64 `json:"items_sent"`
	ItemsAcked    int64 `json:"items_acknowledged"`
	ItemsFailed   int64 `json:"items_failed"`
	ItemsRejected int64 `json:"items_rejected"`
	// FirstSeq and LastSeq bound the sequence numbers used (inclusive).
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// Duration is from the first send to the last answer.
	Duration     time.Duration `json:"duration_ns"`
	ItemsPerSec  float64       `json:"items_per_sec"`
	RequestBytes int           `json:"request_bytes"`
	// Latency of accepted attempts, and of refusals, in microseconds.
	LatencyP50us        float64 `json:"latency_p50_us"`
	LatencyP95us        float64 `json:"latency_p95_us"`
	LatencyP99us        float64 `json:"latency_p99_us"`
	RefusalLatencyP99us float64 `json:"refusal_latency_p99_us"`
	// ClientCPUSeconds is this process's user+system CPU during the run (getrusage).
	ClientCPUSeconds float64  `json:"client_cpu_seconds"`
	Errors           []string `json:"errors,omitempty"`
}

// Run offers load as cfg says and returns when every request was acknowledged or given up
// on, or ctx is done (outstanding retries are then abandoned and counted as failed).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Senders <= 0 {
		cfg.Senders = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Shape.ItemsPerRequest <= 0 {
		cfg.Shape.ItemsPerRequest = 100
	}
	if cfg.Signal == "" {
		cfg.Signal = Traces
	}
	if cfg.Duration <= 0 && cfg.Requests <= 0 {
		return nil, errors.New("loadgen: set Duration or Requests")
	}
	tenantOf := cfg.TenantOf
	if tenantOf == nil {
		tenantOf = func(i int) string {
			if len(cfg.Tenants) == 0 {
				return ""
			}
			return cfg.Tenants[i%len(cfg.Tenants)]
		}
	}
	templates := map[string]*Template{}
	for i := range cfg.Senders {
		tn := tenantOf(i)
		if templates[tn] != nil {
			continue
		}
		t, err := NewTemplate(cfg.Signal, tn, cfg.Shape)
		if err != nil {
			return nil, err
		}
		templates[tn] = t
	}
	var snd sender
	switch cfg.Protocol {
	case "grpc", "":
		s, err := newGRPCSender(cfg.Endpoint, cfg.TenantKey, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		snd = s
	case "http":
		snd = newHTTPSender(cfg.Endpoint, cfg.TenantKey, cfg.Timeout, cfg.Senders)
	default:
		return nil, fmt.Errorf("loadgen: protocol must be grpc or http, found %q", cfg.Protocol)
	}
	defer snd.close()

	r := &runner{cfg: cfg, snd: snd, refused: map[string]int64{}}
	r.nextSeq.Store(cfg.SeqBase)
	res := &Result{Protocol: cfg.Protocol, Signal: string(cfg.Signal), Senders: cfg.Senders,
		FirstSeq: cfg.SeqBase + 1}
	for _, t := range templates {
		res.RequestBytes = t.Size()
	}

	cpu0 := cpuSeconds()
	start := time.Now()
	offerCtx, stopOffering := context.WithCancel(ctx)
	if cfg.Duration > 0 {
		offerCtx, stopOffering = context.WithTimeout(ctx, cfg.Duration)
	}
	defer stopOffering()

	sampleDone := make(chan struct{})
	var sampleWG sync.WaitGroup
	if cfg.OnSample != nil {
		every := cfg.SampleEvery
		if every <= 0 {
			every = time.Second
		}
		sampleWG.Add(1)
		go func() {
			defer sampleWG.Done()
			tk := time.NewTicker(every)
			defer tk.Stop()
			for {
				select {
				case <-sampleDone:
					return
				case <-tk.C:
					cfg.OnSample(r.sample(time.Since(start)))
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for i := range cfg.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sender(ctx, offerCtx, i, templates[tenantOf(i)])
		}()
	}
	wg.Wait()
	res.Duration = time.Since(start)
	close(sampleDone)
	sampleWG.Wait()
	res.ClientCPUSeconds = cpuSeconds() - cpu0

	r.mu.Lock()
	defer r.mu.Unlock()
	res.Requests = r.requests.Load()
	if cfg.Requests > 0 && res.Requests > cfg.Requests {
		res.Requests = cfg.Requests
	}
	res.Attempts = r.attempts.Load()
	res.Accepted = r.accepted.Load()
	res.Refused = r.refused
	res.RefusedWithoutHint = r.noHint
	res.ItemsSent = r.itemsSent.Load()
	res.ItemsAcked = r.itemsAcked.Load()
	res.ItemsFailed = r.itemsFailed.Load()
	res.ItemsRejected = r.itemsRejected
	res.LastSeq = r.nextSeq.Load()
	if res.Duration > 0 {
		res.ItemsPerSec = float64(res.ItemsAcked) / res.Duration.Seconds()
	}
	res.LatencyP50us = percentile(r.okLatency, 0.50)
	res.LatencyP95us = percentile(r.okLatency, 0.95)
	res.LatencyP99us = percentile(r.okLatency, 0.99)
	res.RefusalLatencyP99us = percentile(r.refusedLatency, 0.99)
	res.Errors = r.errors
	return res, nil
}

type runner struct {
	cfg     Config
	snd     sender
	nextSeq atomic.Uint64

	requests, attempts, accepted, refusedN atomic.Int64
	itemsSent, itemsAcked, itemsFailed     atomic.Int64

	mu             sync.Mutex
	refused        map[string]int64
	noHint         int64
	itemsRejected  int64
	okLatency      []time.Duration
	refusedLatency []time.Duration
	errors         []string
}

func (r *runner) sample(elapsed time.Duration) Sample {
	s := Sample{Elapsed: elapsed, Attempts: r.attempts.Load(), Accepted: r.accepted.Load(),
		Refused: r.refusedN.Load(), ItemsAcked: r.itemsAcked.Load(), ItemsSent: r.itemsSent.Load(),
		RefusedByStatus: map[string]int64{}}
	r.mu.Lock()
	for k, v := range r.refused {
		s.RefusedByStatus[k] = v
	}
	r.mu.Unlock()
	return s
}

// sender loops: take fresh sequence numbers, render, send until acknowledged or given up.
func (r *runner) sender(ctx, offerCtx context.Context, idx int, t *Template) {
	var pace *time.Ticker
	if r.cfg.Rate > 0 {
		per := time.Duration(float64(time.Second) * float64(r.cfg.Senders) / r.cfg.Rate)
		// Each sender starts its ticks at its own offset into the period: started together,
		// the senders would send in bursts of all of them at once, which independent clients
		// do not, and the latency measured would be the burst's.
		offset := time.NewTimer(per * time.Duration(idx) / time.Duration(r.cfg.Senders))
		select {
		case <-offset.C:
		case <-offerCtx.Done():
			offset.Stop()
			return
		}
		pace = time.NewTicker(per)
		defer pace.Stop()
	}
	rng := rand.New(rand.NewPCG(uint64(idx), uint64(time.Now().UnixNano())))
	var buf []byte
	var okLat, refLat []time.Duration
	defer func() {
		r.mu.Lock()
		r.okLatency = append(r.okLatency, okLat...)
		r.refusedLatency = append(r.refusedLatency, refLat...)
		r.mu.Unlock()
	}()
	items := int64(t.Items)
	for {
		if offerCtx.Err() != nil {
			return
		}
		if pace != nil {
			select {
			case <-offerCtx.Done():
				return
			case <-pace.C:
			}
		}
		if r.cfg.Requests > 0 && r.requests.Add(1) > r.cfg.Requests {
			return
		} else if r.cfg.Requests <= 0 {
			r.requests.Add(1)
		}
		first := r.nextSeq.Add(uint64(items)) - uint64(items) + 1
		buf = t.Render(buf, first)
		r.itemsSent.Add(items)
		began := time.Now()
		backoff := r.cfg.Retry.InitialInterval
		for {
			r.attempts.Add(1)
			t0 := time.Now()
			o := r.snd.send(ctx, t.Signal, t.Tenant, buf)
			lat := time.Since(t0)
			if o.OK() {
				r.accepted.Add(1)
				r.itemsAcked.Add(items - o.Rejected)
				okLat = append(okLat, lat)
				if o.Rejected > 0 {
					r.mu.Lock()
					r.itemsRejected += o.Rejected
					r.mu.Unlock()
				}
				break
			}
			r.refusedN.Add(1)
			refLat = append(refLat, lat)
			r.mu.Lock()
			r.refused[o.Code]++
			if hintExpected(o.Code) && !o.HasHint {
				r.noHint++
			}
			if len(r.errors) < 20 && o.Err != nil && !hintExpected(o.Code) {
				r.errors = append(r.errors, o.Err.Error())
			}
			r.mu.Unlock()
			if r.cfg.Retry.Flood {
				if offerCtx.Err() != nil {
					r.itemsFailed.Add(items)
					break
				}
				continue
			}
			if !o.Retryable || !r.cfg.Retry.Enabled || ctx.Err() != nil ||
				(r.cfg.Retry.MaxElapsedTime > 0 && time.Since(began) > r.cfg.Retry.MaxElapsedTime) {
				r.itemsFailed.Add(items)
				break
			}
			wait := jitter(rng, backoff, r.cfg.Retry.RandomizationFactor)
			if o.RetryAfter > wait {
				wait = o.RetryAfter
			}
			backoff = time.Duration(float64(backoff) * max(r.cfg.Retry.Multiplier, 1))
			if r.cfg.Retry.MaxInterval > 0 && backoff > r.cfg.Retry.MaxInterval {
				backoff = r.cfg.Retry.MaxInterval
			}
			tm := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				tm.Stop()
				r.itemsFailed.Add(items)
				return
			case <-tm.C:
			}
		}
	}
}

// hintExpected: refusals the backpressure contract says carry a retry hint.
func hintExpected(code string) bool {
	switch code {
	case "429", "503", "RESOURCE_EXHAUSTED", "UNAVAILABLE":
		return true
	}
	return false
}

func jitter(rng *rand.Rand, d time.Duration, factor float64) time.Duration {
	if factor <= 0 || d <= 0 {
		return d
	}
	delta := factor * float64(d)
	return time.Duration(float64(d) - delta + rng.Float64()*2*delta)
}

func percentile(v []time.Duration, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	i := int(float64(len(v)-1) * p)
	return float64(v[i]) / float64(time.Microsecond)
}

// cpuSeconds is this process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
