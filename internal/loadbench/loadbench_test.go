package loadbench

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
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
