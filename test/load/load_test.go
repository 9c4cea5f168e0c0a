package load

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
	"github.com/sluicehq/sluice/internal/loadgen"
)

// TestOverloadRefusesWithHintsOnly: 16 senders against one admission slot, over gRPC and
// HTTP at once. Every refusal is 429 / RESOURCE_EXHAUSTED with a retry hint, nothing is a
// 500, and with clients that retry everything lands exactly once.
func TestOverloadRefusesWithHintsOnly(t *testing.T) {
	bin := collectorBin(t)
	endpoint := chlocal.ForTest(t)
	conn := openCH(t, endpoint)
	ports := newPorts(t)
	db := fmt.Sprintf("load_overload_%d", time.Now().UnixNano())
	startCollector(t, bin, "gateway", loadbench.SluiceConfig(loadbench.Gateway{
		Ports: ports, Endpoint: endpoint, Database: db, MaxInflightRequests: 1,
		Lanes: true, FlushInterval: flushInterval,
	}), ports)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runs := map[string]loadgen.Config{
		"grpc": {Protocol: "grpc", Endpoint: ports.GRPCAddr(), SeqBase: 0},
		"http": {Protocol: "http", Endpoint: ports.HTTPURL(), SeqBase: 1 << 40},
	}
	results := map[string]*loadgen.Result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, cfg := range runs {
		cfg.Signal = loadgen.Traces
		cfg.Shape = loadgen.Shape{ItemsPerRequest: 50, Attributes: 4}
		cfg.Senders = 8
		cfg.Requests = 24
		cfg.Retry = fastRetry()
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := loadgen.Run(ctx, cfg)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			results[name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var total loadgen.Result
	for name, res := range results {
		t.Logf("%s: %d requests, %d attempts, refused %v", name, res.Requests, res.Attempts, res.Refused)
		for code, n := range res.Refused {
			if code != "429" && code != "RESOURCE_EXHAUSTED" {
				t.Errorf("%s: %d refusals with %s, want only 429 / RESOURCE_EXHAUSTED (errors: %v)", name, n, code, res.Errors)
			}
		}
		if res.RefusedWithoutHint != 0 {
			t.Errorf("%s: %d refusals without Retry-After / RetryInfo", name, res.RefusedWithoutHint)
		}
		if res.ItemsFailed != 0 {
			t.Errorf("%s: %d items given up on", name, res.ItemsFailed)
		}
		total.ItemsAcked += res.ItemsAcked
		total.ItemsFailed += res.ItemsFailed
		total.Attempts += res.Attempts
		total.Accepted += res.Accepted
	}
	// 16 senders and one slot: refusals are all but certain; without any the test proved nothing.
	if total.Attempts == total.Accepted {
		t.Errorf("no request was refused: the overload did not happen")
	}
	assertLandedExactly(t, conn, db, loadgen.Traces, &total)
}

// TestOutageNoLossNoDuplicates kills ClickHouse while a retrying client sends, restarts it,
// and checks that every acknowledged item landed exactly once.
func TestOutageNoLossNoDuplicates(t *testing.T) {
	bin := collectorBin(t)
	ch := chlocal.StartForTest(t)
	conn := openCH(t, ch.Endpoint())
	ports := newPorts(t)
	db := fmt.Sprintf("load_outage_%d", time.Now().UnixNano())
	startCollector(t, bin, "gateway", loadbench.SluiceConfig(loadbench.Gateway{
		Ports: ports, Endpoint: ch.Endpoint(), Database: db, Lanes: true, FlushInterval: flushInterval,
	}), ports)

	// The fault follows the load's own progress: kill once items were acknowledged, restart
	// once the client has seen refusals since the kill (or its requests hang on the dead server).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := startSampled(ctx, loadgen.Config{
		Protocol: "grpc", Endpoint: ports.GRPCAddr(), Signal: loadgen.Logs,
		Shape: loadgen.Shape{ItemsPerRequest: 100, Attributes: 2}, Senders: 8,
		Requests: 300, Retry: fastRetry(), Timeout: 20 * time.Second,
	}, 50*time.Millisecond)
	var killedAt loadgen.Sample
	killed, restarted := false, false
	for !restarted {
		select {
		case <-run.done:
			t.Fatalf("the load finished before the outage was over (killed %v): %v %+v", killed, run.err, run.res)
		case s := <-run.samples:
			switch {
			case !killed && s.ItemsAcked >= 2000:
				if err := ch.Kill(); err != nil {
					t.Fatal(err)
				}
				killed, killedAt = true, s
			case killed && (s.Refused > killedAt.Refused || s.Elapsed-killedAt.Elapsed > 5*time.Second):
				rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
				err := ch.Restart(rctx)
				rcancel()
				if err != nil {
					t.Fatal(err)
				}
				restarted = true
			}
		}
	}
	<-run.done
	if run.err != nil {
		t.Fatal(run.err)
	}
	t.Logf("%d requests, %d attempts, refused %v, acknowledged %d, failed %d", run.res.Requests, run.res.Attempts, run.res.Refused, run.res.ItemsAcked, run.res.ItemsFailed)
	if run.res.ItemsFailed != 0 {
		t.Errorf("%d items given up on by a client that retries without limit", run.res.ItemsFailed)
	}
	for code := range run.res.Refused {
		if code == "500" || code == "INTERNAL" || code == "UNKNOWN" {
			t.Errorf("refusals with %s: %v", code, run.res.Errors)
		}
	}
	if run.res.RefusedWithoutHint != 0 {
		t.Errorf("%d refusals without a retry hint", run.res.RefusedWithoutHint)
	}
	assertLandedExactly(t, conn, db, loadgen.Logs, run.res)
}

// TestChainAgentBacksOffAndLosesNothing puts an otelcol-sluice agent (core otlp exporter with
// retry and sending queue) in front of a gateway with one admission slot: the gateway refuses
// with 429 / RESOURCE_EXHAUSTED, the agent retries after the hint, and everything lands once.
func TestChainAgentBacksOffAndLosesNothing(t *testing.T) {
	bin := collectorBin(t)
	endpoint := chlocal.ForTest(t)
	conn := openCH(t, endpoint)
	gwPorts, agentPorts := newPorts(t), newPorts(t)
	db := fmt.Sprintf("load_chain_%d", time.Now().UnixNano())
	gateway := startCollector(t, bin, "gateway", loadbench.SluiceConfig(loadbench.Gateway{
		Ports: gwPorts, Endpoint: endpoint, Database: db, MaxInflightRequests: 1,
		Lanes: true, FlushInterval: flushInterval,
	}), gwPorts)
	startCollector(t, bin, "agent", loadbench.AgentConfig(agentPorts, gwPorts.GRPCAddr(), "", 1000, 8), agentPorts)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := loadgen.Run(ctx, loadgen.Config{
		Protocol: "grpc", Endpoint: agentPorts.GRPCAddr(), Signal: loadgen.Traces,
		Shape: loadgen.Shape{ItemsPerRequest: 50, Attributes: 2}, Senders: 8, Requests: 120,
		Retry: fastRetry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("client: %d requests, refused %v, acknowledged %d", res.Requests, res.Refused, res.ItemsAcked)
	if res.ItemsFailed != 0 {
		t.Errorf("the agent made the client give up on %d items", res.ItemsFailed)
	}
	assertLandedExactly(t, conn, db, loadgen.Traces, res)

	m, err := gateway.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refused := m.Sum("otelcol_sluice_receiver_requests", `outcome="refused"`)
	accepted := m.Sum("otelcol_sluice_receiver_requests", `outcome="accepted"`)
	t.Logf("gateway: %v requests accepted, %v refused", accepted, refused)
	if refused == 0 {
		t.Errorf("the gateway never refused: the agent's backoff was not exercised")
	}
	if other := m.Sum("otelcol_sluice_receiver_requests", `outcome="refused"`, `reason="downstream`); other != 0 {
		t.Errorf("%v refusals came from the pipeline, not admission", other)
	}
}

// TestBenchConfigsValidate checks that every config `make bench` generates for otelcol-sluice
// is accepted by the built distribution.
func TestBenchConfigsValidate(t *testing.T) {
	bin := collectorBin(t)
	p := loadbench.Ports{GRPC: 4317, HTTP: 4318, Metrics: 8888}
	configs := map[string]string{
		"gateway": loadbench.SluiceConfig(loadbench.Gateway{Ports: p, Endpoint: "tcp://127.0.0.1:9000", Database: "d"}),
		"gateway-lanes-tenants": loadbench.SluiceConfig(loadbench.Gateway{Ports: p, Endpoint: "tcp://127.0.0.1:9000", Database: "d",
			MaxInflightRequests: 8, MaxInflightBytes: 64 << 20, TenantKey: "X-Scope-OrgID", TenantShare: 0.5,
			Lanes: true, MemoryBudget: 128 << 20, Acknowledge: "on_insert", FlushRows: 2000, FlushInterval: 200 * time.Millisecond}),
		"gateway-wal": loadbench.SluiceConfig(loadbench.Gateway{Ports: p, Endpoint: "tcp://127.0.0.1:9000", Database: "d",
			Lanes: true, Acknowledge: "on_wal", WALDirectory: "/tmp/sluice-wal", WALMaxBytes: 1 << 30}),
		"agent": loadbench.AgentConfig(p, "127.0.0.1:14317", "", 1000, 10),
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if out, err := exec.CommandContext(ctx, bin, "validate", "--config", path).CombinedOutput(); err != nil {
				t.Fatalf("validate: %v\n%s\n%s", err, out, cfg)
			}
		})
	}
	if !loadbench.SupportsLanes(bin) {
		t.Error("SupportsLanes is false for a distribution whose exporter has lanes")
	}
}
