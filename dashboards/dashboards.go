// Package dashboards holds the Grafana dashboard (sluice.json) and the Prometheus alerting
// rules (alerts.yaml) for otelcol-sluice's self-telemetry, embedded so that tests can check
// them: dashboards_test.go against the metadata.yaml files, test/distribution against what a
// running collector really exposes.
package dashboards // import "github.com/sluicehq/sluice/dashboards"

import (
	_ "embed"
	"regexp"
	"slices"
)

// Dashboard is the Grafana dashboard JSON.
//
//go:embed sluice.json
var Dashboard []byte

// Alerts is the Prometheus rules file.
//
//go:embed alerts.yaml
var Alerts []byte

// Prefix is what the collector's Prometheus reader puts before every metric name. With the
// reader's defaults no unit and no _total suffix is added; histograms get _bucket, _sum and
// _count.
const Prefix = "otelcol_"

// StandardMetrics are the collector's own metrics (not declared in a Sluice metadata.yaml)
// that the dashboard and rules may use, with their labels, as exposed by otelcol-sluice
// v0.1.0 (collector v0.165.0, telemetry level normal).
var StandardMetrics = map[string][]string{
	"otelcol_process_uptime":                   nil,
	"otelcol_process_memory_rss":               nil,
	"otelcol_process_cpu_seconds":              nil,
	"otelcol_process_runtime_heap_alloc_bytes": nil,
	"otelcol_exporter_in_flight_requests":      {"exporter", "data_type"},
}

func init() {
	for _, item := range []string{"spans", "log_records", "metric_points"} {
		for _, outcome := range []string{"accepted", "refused", "failed"} {
			StandardMetrics["otelcol_receiver_"+outcome+"_"+item] = []string{"receiver", "transport"}
		}
		for _, outcome := range []string{"sent", "send_failed"} {
			StandardMetrics["otelcol_exporter_"+outcome+"_"+item] = []string{"exporter"}
		}
	}
}

var metricName = regexp.MustCompile(`\b` + Prefix + `[a-z0-9_]+`)

// MetricNames returns, sorted and once each, every otelcol_ metric name the dashboard and
// the rules refer to.
func MetricNames() []string {
	var names []string
	for _, src := range [][]byte{Dashboard, Alerts} {
		for _, m := range metricName.FindAll(src, -1) {
			names = append(names, string(m))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
