package distribution

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluicehq/sluice/dashboards"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// telemetryConfig has tenant lanes by X-Scope-OrgID and a route for tenant "dead" to a port
// where nothing listens, with a long cool-down so its breaker stays open once tripped.
const telemetryConfig = `
receivers:
  sluice:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        include_metadata: true
      http:
        endpoint: 127.0.0.1:%d
        include_metadata: true
exporters:
  clickhouselanes:
    endpoint: %s
    database: %s
    dial_timeout: 2s
    lanes:
      key: metadata
      key_name: X-Scope-OrgID
      memory_budget: 100000000
    retry:
      max_attempts: 2
      initial_interval: 10ms
    breaker:
      failure_threshold: 2
      cool_down: 10m
    routes:
      - name: dead
        lane_keys: [dead]
        endpoint: tcp://127.0.0.1:%d
service:
  pipelines:
    traces:
      receivers: [sluice]
      exporters: [clickhouselanes]
    logs:
      receivers: [sluice]
      exporters: [clickhouselanes]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`

// TestSelfTelemetryInPrometheus runs otelcol-sluice with a Prometheus reader, sends spans,
// tenant logs, a malformed request and logs for a tenant whose ClickHouse is down, and finds
// in /metrics the Sluice metrics under the names the dashboard uses, with their labels, and
// values that moved with the load.
func TestSelfTelemetryInPrometheus(t *testing.T) {
	collectorBin(t)
	endpoint := chlocal.ForTest(t)
	grpcPort, httpPort, deadPort, metricsPort := freePort(t), freePort(t), freePort(t), freePort(t)
	database := fmt.Sprintf("telemetry_%d", time.Now().UnixNano())
	grpcAddr, httpBase := fmt.Sprintf("127.0.0.1:%d", grpcPort), fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	startCollector(t, fmt.Sprintf(telemetryConfig, grpcPort, httpPort, endpoint, database, deadPort, metricsPort),
		grpcAddr, fmt.Sprintf("127.0.0.1:%d", httpPort), fmt.Sprintf("127.0.0.1:%d", metricsPort))

	before := scrape(t, metricsURL)
	const spans, logs, deadLogs = 120, 30, 7
	sendSpans(t, grpcAddr, spans)
	postLogs(t, httpBase, "team-a", logs, http.StatusOK)
	post(t, httpBase+"/v1/logs", "", "application/x-protobuf", []byte("not protobuf"), http.StatusBadRequest)
	postLogs(t, httpBase, "dead", deadLogs, http.StatusServiceUnavailable) // two failed attempts open the breaker
	postLogs(t, httpBase, "dead", deadLogs, http.StatusServiceUnavailable) // refused by the open breaker

	want := []sample{
		{"otelcol_sluice_exporter_rows_inserted", labels{"destination": "default", "lane": "default", "signal": "traces", "table": "otel_traces"}, spans},
		{"otelcol_sluice_exporter_rows_inserted", labels{"destination": "default", "lane": "team-a", "signal": "logs", "table": "otel_logs"}, logs},
		{"otelcol_sluice_exporter_rows_refused", labels{"destination": "dead", "lane": "dead", "signal": "logs", "reason": "breaker_open"}, deadLogs},
		{"otelcol_sluice_exporter_breaker_state", labels{"destination": "dead", "lane": "dead", "signal": "logs", "state": "open"}, 1},
		{"otelcol_sluice_exporter_breaker_state", labels{"destination": "dead", "lane": "dead", "signal": "logs", "state": "closed"}, 0},
		{"otelcol_sluice_exporter_breaker_state", labels{"destination": "default", "lane": "team-a", "signal": "logs", "state": "closed"}, 1},
		{"otelcol_sluice_exporter_breaker_transitions", labels{"destination": "dead", "lane": "dead", "signal": "logs", "state": "open"}, 1},
		{"otelcol_sluice_exporter_lanes_active", labels{"signal": "logs"}, 2},
		{"otelcol_sluice_exporter_memory_budget_limit", labels{"signal": "logs"}, 100000000},
		{"otelcol_sluice_exporter_memory_budget_used", labels{"signal": "logs"}, 0},
		{"otelcol_sluice_exporter_queue_rows", labels{"destination": "default", "lane": "team-a", "signal": "logs"}, 0},
		{"otelcol_sluice_exporter_insert_duration_count", labels{"destination": "default", "lane": "team-a", "signal": "logs", "table": "otel_logs"}, 1},
		{"otelcol_sluice_receiver_requests", labels{"outcome": "accepted", "reason": "none", "signal": "logs", "transport": "http"}, 1},
		{"otelcol_sluice_receiver_requests", labels{"outcome": "refused", "reason": "invalid", "signal": "logs", "transport": "http"}, 1},
		{"otelcol_sluice_receiver_requests", labels{"outcome": "refused", "reason": "downstream_unavailable", "signal": "logs", "transport": "http"}, 2},
		{"otelcol_sluice_receiver_inflight_requests", nil, 0},
		{"otelcol_sluice_receiver_inflight_bytes", nil, 0},
		{"otelcol_receiver_accepted_spans", labels{"receiver": "sluice", "transport": "grpc"}, spans},
		{"otelcol_exporter_sent_spans", labels{"exporter": "clickhouselanes"}, spans},
	}
	// Counters are recorded around the response, not before it: poll until they arrive.
	var after []sample
	deadline := time.Now().Add(time.Minute)
	for {
		after = scrape(t, metricsURL)
		missing := missingSamples(after, want)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, m := range missing {
				t.Errorf("no sample %s", m)
			}
			t.Fatalf("scraped:\n%s", formatSamples(after, "otelcol_sluice_"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Values moved: the counters the load drives are higher than before it.
	for _, name := range []string{"otelcol_sluice_exporter_rows_inserted", "otelcol_sluice_exporter_bytes_inserted",
		"otelcol_sluice_receiver_requests", "otelcol_sluice_receiver_request_duration_count"} {
		if b, a := total(before, name), total(after, name); a <= b {
			t.Errorf("%s did not move: %v before the load, %v after", name, b, a)
		}
	}

	// Every metric the dashboard and alerts use exists under that exact name, except those
	// this load cannot produce: the write-ahead log's (this exporter acknowledges on insert;
	// TestOTLPIntoClickHouse checks them on the on_wal gateway), damage and replay counters
	// (only after a crash), and isolation inserts (only when ClickHouse rejects a batch).
	notProduced := []string{
		"otelcol_sluice_exporter_wal_records_damaged", "otelcol_sluice_exporter_wal_tail_truncated",
		"otelcol_sluice_exporter_wal_rows_replayed", "otelcol_sluice_exporter_wal_resends_absorbed",
		"otelcol_sluice_exporter_isolation_inserts",
		"otelcol_sluice_exporter_rows_dropped", "otelcol_sluice_exporter_lanes_overflow",
		"otelcol_receiver_accepted_metric_points", "otelcol_receiver_refused_metric_points", "otelcol_receiver_failed_metric_points",
		"otelcol_exporter_sent_metric_points", "otelcol_exporter_send_failed_metric_points",
		"otelcol_receiver_failed_spans", "otelcol_receiver_failed_log_records", "otelcol_receiver_refused_spans",
		"otelcol_exporter_send_failed_spans",
	}
	for _, name := range dashboards.MetricNames() {
		if !slices.Contains(notProduced, name) && !slices.Contains(walMetrics, name) && total(after, name) < 0 {
			t.Errorf("the dashboard or alerts use %s, which the collector does not expose", name)
		}
	}
}

type labels map[string]string

type sample struct {
	name   string
	labels labels
	value  float64
}

func (s sample) String() string { return fmt.Sprintf("%s%v = %v", s.name, s.labels, s.value) }

var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrape reads the Prometheus text exposition at url.
func scrape(t *testing.T, url string) []sample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var out []sample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, value, ok := cutLast(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		name, rest, _ := strings.Cut(head, "{")
		ls := labels{}
		for _, m := range labelPair.FindAllStringSubmatch(rest, -1) {
			ls[m[1]] = m[2]
		}
		out = append(out, sample{name: name, labels: ls, value: v})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// missingSamples returns the wanted samples not found: same name, wanted labels among the
// sample's labels, same value.
func missingSamples(got, want []sample) []sample {
	var missing []sample
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g sample) bool { return g.name == w.name && g.value == w.value && hasLabels(g.labels, w.labels) }) {
			missing = append(missing, w)
		}
	}
	return missing
}

func hasLabels(have, want labels) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// total sums every series of name, or returns -1 when there is none.
func total(samples []sample, name string) float64 {
	sum, found := 0.0, false
	for _, s := range samples {
		if s.name == name {
			sum, found = sum+s.value, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

func formatSamples(samples []sample, prefix string) string {
	var b strings.Builder
	for _, s := range samples {
		if strings.HasPrefix(s.name, prefix) && !strings.HasSuffix(s.name, "_bucket") {
			fmt.Fprintln(&b, s)
		}
	}
	return b.String()
}

// postLogs sends n log records as one OTLP/HTTP protobuf request for tenant and checks the
// status; refusals must carry Retry-After.
func postLogs(t *testing.T, base, tenant string, n, wantStatus int) {
	t.Helper()
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		r := records.AppendEmpty()
		r.SetTimestamp(nowTimestamp())
		r.Body().SetStr(fmt.Sprintf("telemetry log %d for %s", i, tenant))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	resp := post(t, base+"/v1/logs", tenant, "application/x-protobuf", body, wantStatus)
	if wantStatus != http.StatusOK && resp.Header.Get("Retry-After") == "" {
		t.Errorf("%d for tenant %s without Retry-After", wantStatus, tenant)
	}
}

func post(t *testing.T, url, tenant, contentType string, body []byte, wantStatus int) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s (tenant %q): %s, want %d: %s", url, tenant, resp.Status, wantStatus, msg)
	}
	return resp
}
