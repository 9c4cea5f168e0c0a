package load

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
	"github.com/sluicehq/sluice/internal/loadgen"
)

// walGateway is the gateway of `make run`: lanes acknowledging once rows are in their
// write-ahead log, in dir.
func walGateway(ports loadbench.Ports, endpoint, db, dir string, maxBytes int64) string {
	return loadbench.SluiceConfig(loadbench.Gateway{
		Ports: ports, Endpoint: endpoint, Database: db, Lanes: true,
		Acknowledge: "on_wal", WALDirectory: dir, WALMaxBytes: maxBytes,
	})
}

// TestCollectorKill9OnWALLosesNothing kill -9s the collector while 4 retrying clients send,
// restarts it on the same log directory and ports, and checks that every acknowledged row
// landed exactly once.
//
// The window no server closes alone: a request whose record reached the log but whose
// answer the crash cut off. Its client resends the same bytes, and the restarted lane,
// which remembered the records its log held (wal::resend_window), acknowledges the resend
// without writing it again: no duplicate. The test reports how many it saw.
func TestCollectorKill9OnWALLosesNothing(t *testing.T) {
	bin := collectorBin(t)
	endpoint := chlocal.ForTest(t)
	conn := openCH(t, endpoint)
	ports := newPorts(t)
	db := fmt.Sprintf("load_kill9_%d", time.Now().UnixNano())
	walDir := t.TempDir()
	cfg := walGateway(ports, endpoint, db, walDir, 0)
	first := startCollector(t, bin, "gateway", cfg, ports)

	const senders, perRequest = 4, 100
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	run := startSampled(ctx, loadgen.Config{
		Protocol: "grpc", Endpoint: ports.GRPCAddr(), Signal: loadgen.Traces,
		Shape: loadgen.Shape{ItemsPerRequest: perRequest, Attributes: 2}, Senders: senders,
		Requests: 400, Retry: fastRetry(), Timeout: 20 * time.Second,
	}, 20*time.Millisecond)
	var ackedAtKill int64
	for killed := false; !killed; {
		select {
		case <-run.done:
			t.Fatalf("the load finished before the kill: %v %+v", run.err, run.res)
		case s := <-run.samples:
			if s.ItemsAcked >= 5000 {
				first.Kill()
				killed, ackedAtKill = true, s.ItemsAcked
			}
		}
	}
	// Same ports, same log directory: what the first process acknowledged is replayed.
	restarted := startCollector(t, bin, "gateway-restarted", cfg, ports)
	<-run.done
	if run.err != nil {
		t.Fatal(run.err)
	}
	t.Logf("killed at %d acknowledged rows; %d requests, %d attempts, refused %v, acknowledged %d, failed %d",
		ackedAtKill, run.res.Requests, run.res.Attempts, run.res.Refused, run.res.ItemsAcked, run.res.ItemsFailed)
	if run.res.ItemsFailed != 0 {
		t.Errorf("%d items given up on by a client that retries without limit", run.res.ItemsFailed)
	}
	for code := range run.res.Refused {
		if code == "500" || code == "INTERNAL" || code == "UNKNOWN" {
			t.Errorf("refusals with %s: %v", code, run.res.Errors)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer wcancel()
	landed, _, err := loadbench.WaitLanded(wctx, conn, db, loadgen.Traces, uint64(run.res.ItemsAcked), time.Minute)
	if err != nil {
		t.Fatalf("waiting for %d acknowledged rows: %v", run.res.ItemsAcked, err)
	}
	if landed.Unique != uint64(run.res.ItemsAcked) {
		t.Errorf("landed %d distinct rows, acknowledged %d", landed.Unique, run.res.ItemsAcked)
	}
	// Requests in flight when the process died were in the log, unanswered, and resent.
	dup := landed.Duplicates()
	t.Logf("duplicates from requests whose answer the kill cut off: %d rows (%d requests)", dup, dup/perRequest)
	if dup != 0 {
		t.Errorf("%d duplicate rows: a resend of a record already in the log was written again", dup)
	}
	m, err := restarted.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	absorbed := m.Sum("otelcol_sluice_exporter_wal_resends_absorbed")
	t.Logf("resends absorbed by the restarted collector: %.0f requests", absorbed)
	if absorbed > senders {
		t.Errorf("%.0f resends absorbed: more than the %d requests in flight at the kill", absorbed, senders)
	}
}

// TestClickHouseOutageOnWALKeepsAcknowledging kills ClickHouse under load: the gateway keeps
// acknowledging into its log until the log's budget is full, then refuses with 429 and a
// retry hint only; once ClickHouse is back the backlog drains, nothing lost or duplicated.
func TestClickHouseOutageOnWALKeepsAcknowledging(t *testing.T) {
	bin := collectorBin(t)
	ch := chlocal.StartForTest(t)
	conn := openCH(t, ch.Endpoint())
	ports := newPorts(t)
	db := fmt.Sprintf("load_wal_outage_%d", time.Now().UnixNano())
	// A small budget, so the outage fills it: a few thousand rows of these logs per MiB.
	gw := startCollector(t, bin, "gateway", walGateway(ports, ch.Endpoint(), db, t.TempDir(), 8<<20), ports)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	run := startSampled(ctx, loadgen.Config{
		Protocol: "grpc", Endpoint: ports.GRPCAddr(), Signal: loadgen.Logs,
		Shape: loadgen.Shape{ItemsPerRequest: 100, Attributes: 2}, Senders: 8,
		Requests: 600, Retry: fastRetry(), Timeout: 20 * time.Second,
	}, 50*time.Millisecond)
	var killedAt loadgen.Sample
	killed, restarted := false, false
	ackedWhileDown := int64(0)
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
			case killed && s.Refused > killedAt.Refused:
				// The log filled: restart ClickHouse and let the backlog drain.
				ackedWhileDown = s.ItemsAcked - killedAt.ItemsAcked
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
	t.Logf("%d requests, %d attempts, refused %v, acknowledged %d (%d while ClickHouse was down), failed %d",
		run.res.Requests, run.res.Attempts, run.res.Refused, run.res.ItemsAcked, ackedWhileDown, run.res.ItemsFailed)
	if ackedWhileDown == 0 {
		t.Errorf("nothing was acknowledged while ClickHouse was down: the log did not buffer")
	}
	for code, n := range run.res.Refused {
		if code != "429" && code != "RESOURCE_EXHAUSTED" {
			t.Errorf("%d refusals with %s, want only 429 / RESOURCE_EXHAUSTED while the log buffers (errors: %v)", n, code, run.res.Errors)
		}
	}
	if run.res.RefusedWithoutHint != 0 {
		t.Errorf("%d refusals without a retry hint", run.res.RefusedWithoutHint)
	}
	if run.res.ItemsFailed != 0 {
		t.Errorf("%d items given up on by a client that retries without limit", run.res.ItemsFailed)
	}
	assertLandedExactly(t, conn, db, loadgen.Logs, run.res)

	// Memory does not follow the backlog: the log held megabytes, the process stays small.
	ps, err := loadbench.ReadProc(gw.PID())
	if err != nil {
		t.Fatal(err)
	}
	if peak := ps.HWMBytes >> 20; peak > 512 {
		t.Errorf("collector peak RSS %d MiB while the backlog was on disk", peak)
	} else {
		t.Logf("collector peak RSS %d MiB", peak)
	}
}
