package loadbench

import (
	"math"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/loadgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPromSum(t *testing.T) {
	p := Prom{
		`otelcol_sluice_receiver_requests{outcome="refused",reason="overloaded",signal="traces"} 7`,
		`otelcol_sluice_receiver_requests{outcome="refused",reason="tenant_share",signal="logs"} 3`,
		`otelcol_sluice_receiver_requests{outcome="accepted",signal="traces"} 40`,
		`otelcol_sluice_exporter_queue_rows{lane="a"} 1.5e3`,
		`otelcol_sluice_exporter_queue_rows{lane="b"} NaN`,
	}
	for _, c := range []struct {
		prefix string
		labels []string
		want   float64
	}{
		{"otelcol_sluice_receiver_requests", []string{`outcome="refused"`}, 10},
		{"otelcol_sluice_receiver_requests", []string{`outcome="refused"`, `signal="logs"`}, 3},
		{"otelcol_sluice_receiver_requests", nil, 50},
		{"otelcol_sluice_exporter_queue_rows", nil, 1500},
		{"otelcol_exporter_queue_size", nil, 0},
	} {
		if got := p.Sum(c.prefix, c.labels...); got != c.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", c.prefix, c.labels, got, c.want)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes <= 0 || s.HWMBytes < s.RSSBytes {
		t.Errorf("RSS %d, HWM %d", s.RSSBytes, s.HWMBytes)
	}
	if s.CPUSeconds < 0 {
		t.Errorf("CPU %v", s.CPUSeconds)
	}
}

func TestSluiceConfigKeys(t *testing.T) {
	cfg := SluiceConfig(Gateway{Ports: Ports{1, 2, 3}, Endpoint: "tcp://h:9000", Database: "d",
		MaxInflightRequests: 4, TenantKey: "X-Scope-OrgID", Lanes: true, MemoryBudget: 1 << 20, FlushRows: 10})
	for _, want := range []string{"max_inflight_requests: 4", "metadata_key: X-Scope-OrgID", "key: metadata",
		"key_name: X-Scope-OrgID", "memory_budget: 1048576", "flush_rows: 10", "port: 3"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	if cfg := SluiceConfig(Gateway{Endpoint: "tcp://h:9000", Database: "d"}); strings.Contains(cfg, "\n    lanes:") {
		t.Errorf("lanes keys written without Lanes:\n%s", cfg)
	}
}

// TestMarkdownComparesEverySluicePipelineWithUpstream: one column per pipeline that ran and
// one ratio per Sluice pipeline, in the fixed order.
func TestMarkdownComparesEverySluicePipelineWithUpstream(t *testing.T) {
	its := []*Iteration{
		{Scenario: "s", Pipeline: Upstream, Iteration: 1, ItemsPerSec: 100, CPUusPerItem: 8},
		{Scenario: "s", Pipeline: SluiceWAL, Iteration: 1, ItemsPerSec: 200, CPUusPerItem: 2},
		{Scenario: "s", Pipeline: Sluice, Iteration: 1, ItemsPerSec: 50, CPUusPerItem: 4},
	}
	var b strings.Builder
	WriteMarkdown(&b, []Scenario{{Name: "s", Desc: "d"}}, map[string][]*Iteration{"s": its}, "header")
	md := b.String()
	for _, want := range []string{
		"| metric | sluice | sluice-wal | upstream | sluice vs upstream (>1: better) | sluice-wal vs upstream (>1: better) |",
		"| items/s acknowledged | 50.00 | 200 | 100 | 0.50× | 2.00× |",
		"| collector CPU µs/item | 4.00 | 2.00 | 8.00 | 2.00× | 4.00× |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestFloodStatsPricesAdmittedWorkAtTheCalmRate: the refusal's CPU is the flooded phase's CPU
// less its acknowledged items at the calm phase's CPU per landed item.
func TestFloodStatsPricesAdmittedWorkAtTheCalmRate(t *testing.T) {
	calm := phaseRun{loadS: 10, cpuS: 5, landed: Landed{Rows: 1_000_000, Unique: 1_000_000},
		results: []*loadgen.Result{{ItemsAcked: 1_000_000, Attempts: 10_000, Accepted: 10_000}}}
	flooded := phaseRun{loadS: 20, cpuS: 9, clientCPUs: 7, results: []*loadgen.Result{
		{ItemsAcked: 200_000, Attempts: 2_100, Accepted: 2_000},     // well-behaved
		{ItemsAcked: 1_000_000, Attempts: 60_000, Accepted: 10_000}, // flood
	}}
	f := floodStats(calm, flooded)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"calm items/s", f.CalmItemsPerSec, 100_000},
		{"calm µs/item", f.CalmCPUusPerItem, 5},
		{"good items/s", f.GoodItemsPerSec, 10_000},
		{"total items/s", f.TotalItemsPerSec, 60_000},
		{"ratio", f.Ratio, 0.6},
		{"good ratio", f.GoodRatio, 0.1},
		{"refused", float64(f.Refused), 50_100},
		{"good refused", float64(f.GoodRefused), 100},
		{"refused/s", f.RefusedPerSec, 2_505},
		{"admitted CPU s", f.AdmittedCPUs, 6},
		{"µs per refusal", f.CPUusPerRefusal, 3e6 / 50_100},
		{"client CPU s", f.FloodClientCPUs, 7},
	} {
		if math.Abs(c.got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestMarkdownShowsFloodRowsOnlyForFlood: the flood rows appear under the flood scenario and
// not under others.
func TestMarkdownShowsFloodRowsOnlyForFlood(t *testing.T) {
	res := map[string][]*Iteration{
		"flood":  {{Scenario: "flood", Pipeline: Sluice, Iteration: 1, Flood: &Flood{Ratio: 0.9, CPUusPerRefusal: 12}}},
		"steady": {{Scenario: "steady", Pipeline: Sluice, Iteration: 1}},
	}
	var b strings.Builder
	WriteMarkdown(&b, []Scenario{{Name: "flood", Desc: "f"}, {Name: "steady", Desc: "s"}}, res, "h")
	md := b.String()
	i := strings.Index(md, "## steady")
	if i < 0 {
		t.Fatalf("no steady section:\n%s", md)
	}
	for _, want := range []string{"| flooded / calm, all senders (target ≥ 0.80) | 0.900 |", "| collector CPU µs per refused attempt (target ≤ 30) | 12.00 |"} {
		if !strings.Contains(md[:i], want) {
			t.Errorf("flood section lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md[i:], "flooded") {
		t.Errorf("steady section has flood rows:\n%s", md[i:])
	}
}
