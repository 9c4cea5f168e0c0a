package dashboards

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// metadata is the part of an mdatagen metadata.yaml the dashboards depend on.
type metadata struct {
	Attributes map[string]struct {
		Enum []string `yaml:"enum"`
	} `yaml:"attributes"`
	Telemetry struct {
		Metrics map[string]struct {
			Histogram  *struct{} `yaml:"histogram"`
			Attributes []string  `yaml:"attributes"`
		} `yaml:"metrics"`
	} `yaml:"telemetry"`
}

// exposed is one metric as Prometheus sees it: its labels and the allowed values of the
// labels that are enums in metadata.yaml.
type exposed struct {
	labels []string
	enums  map[string][]string
}

// scrapeLabels are added by Prometheus itself (job, instance) and by the collector's
// Prometheus exporter: the component's id as a scope label, present when the collector runs
// with --feature-gates=telemetry.newPipelineTelemetry (two instances of a component are then
// told apart; without the gate the label is absent and grouping by it changes nothing).
var scrapeLabels = []string{"job", "instance", "otel_scope_otelcol_component_id"}

// catalog maps every exposed name (otelcol_ + metadata name, histograms with their three
// series) to its labels, from both components' metadata.yaml and StandardMetrics.
func catalog(t *testing.T) map[string]exposed {
	t.Helper()
	out := map[string]exposed{}
	for _, path := range []string{
		"../receiver/sluicereceiver/metadata.yaml",
		"../exporter/clickhouselanesexporter/metadata.yaml",
	} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var md metadata
		if err := yaml.Unmarshal(raw, &md); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for name, m := range md.Telemetry.Metrics {
			e := exposed{labels: slices.Clone(m.Attributes), enums: map[string][]string{}}
			for _, a := range m.Attributes {
				if enum := md.Attributes[a].Enum; len(enum) > 0 {
					e.enums[a] = enum
				}
			}
			if m.Histogram == nil {
				out[Prefix+name] = e
				continue
			}
			out[Prefix+name+"_sum"], out[Prefix+name+"_count"] = e, e
			e.labels = append(e.labels, "le")
			out[Prefix+name+"_bucket"] = e
		}
	}
	for name, labels := range StandardMetrics {
		if _, dup := out[name]; dup {
			t.Fatalf("standard metric %s is also declared in a metadata.yaml", name)
		}
		out[name] = exposed{labels: labels}
	}
	return out
}

// query is one PromQL expression and the label names its legend or annotations print.
type query struct {
	where   string
	expr    string
	printed []string
}

var (
	legendLabel     = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	annotationLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	grouping        = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	selector        = regexp.MustCompile(`\b(` + Prefix + `[a-z0-9_]+)\s*\{([^}]*)\}`)
	matcher         = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
)

func dashboardQueries(t *testing.T) []query {
	t.Helper()
	var d struct {
		Title      string `json:"title"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		t.Fatalf("sluice.json does not parse: %v", err)
	}
	if d.Title == "" || len(d.Panels) == 0 {
		t.Fatal("sluice.json has no title or no panels")
	}
	var qs []query
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			qs = append(qs, query{where: "variable " + v.Name, expr: q["query"].(string)})
		}
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q has a target without expr", p.Title)
				continue
			}
			var printed []string
			for _, m := range legendLabel.FindAllStringSubmatch(tg.LegendFormat, -1) {
				printed = append(printed, m[1])
			}
			qs = append(qs, query{where: "panel " + p.Title, expr: tg.Expr, printed: printed})
		}
	}
	return qs
}

func ruleQueries(t *testing.T) []query {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(Alerts)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("alerts.yaml does not parse as a Prometheus rules file: %v", err)
	}
	var qs []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q in group %q needs alert, expr, labels.severity and annotations.summary", r.Alert, g.Name)
			}
			if _, err := time.ParseDuration(r.For); r.For != "" && err != nil {
				t.Errorf("rule %q: for: %v", r.Alert, err)
			}
			var printed []string
			for _, text := range r.Annotations {
				for _, m := range annotationLabel.FindAllStringSubmatch(text, -1) {
					printed = append(printed, m[1])
				}
			}
			qs = append(qs, query{where: "alert " + r.Alert, expr: r.Expr, printed: printed})
		}
	}
	if len(qs) == 0 {
		t.Fatal("alerts.yaml has no rules")
	}
	return qs
}

// TestDashboardAndRulesUseDeclaredMetrics fails when the dashboard or the rules use a metric
// name, a label or an enum value that no metadata.yaml declares (and that is not a standard
// collector metric listed in StandardMetrics): renaming a metric or an attribute in
// metadata.yaml without updating them breaks this test, not a dashboard in production.
func TestDashboardAndRulesUseDeclaredMetrics(t *testing.T) {
	known := catalog(t)
	queries := append(dashboardQueries(t), ruleQueries(t)...)
	used := map[string]bool{}
	for _, q := range queries {
		if strings.Count(q.expr, "(") != strings.Count(q.expr, ")") || strings.Count(q.expr, "{") != strings.Count(q.expr, "}") {
			t.Errorf("%s: unbalanced brackets in %s", q.where, q.expr)
		}
		names := metricName.FindAllString(q.expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: no otelcol_ metric in %s", q.where, q.expr)
		}
		allowed := slices.Clone(scrapeLabels)
		for _, n := range names {
			m, ok := known[n]
			if !ok {
				t.Errorf("%s: metric %s is declared in no metadata.yaml and is not in StandardMetrics", q.where, n)
				continue
			}
			used[n] = true
			allowed = append(allowed, m.labels...)
		}
		check := func(label, role string) {
			if !slices.Contains(allowed, label) {
				t.Errorf("%s: %s label %q is not an attribute of %v", q.where, role, label, names)
			}
		}
		for _, g := range grouping.FindAllStringSubmatch(q.expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" {
					check(l, "grouping")
				}
			}
		}
		for _, l := range q.printed {
			check(l, "printed")
		}
		for _, s := range selector.FindAllStringSubmatch(q.expr, -1) {
			checkMatchers(t, q.where, known[s[1]], s[2], check)
		}
	}
	for _, n := range []string{"otelcol_sluice_receiver_requests", "otelcol_sluice_exporter_rows_inserted",
		"otelcol_sluice_exporter_breaker_state", "otelcol_sluice_exporter_rows_refused", "otelcol_sluice_exporter_rows_dropped",
		"otelcol_sluice_exporter_memory_budget_used", "otelcol_sluice_exporter_memory_budget_limit"} {
		if !used[n] {
			t.Errorf("neither the dashboard nor the rules use %s", n)
		}
	}
}

// checkMatchers checks each label matcher of a selector, and that enum values exist.
func checkMatchers(t *testing.T, where string, m exposed, body string, check func(label, role string)) {
	t.Helper()
	for _, mm := range matcher.FindAllStringSubmatch(body, -1) {
		label, op, value := mm[1], mm[2], mm[3]
		check(label, "matcher")
		enum := m.enums[label]
		if enum == nil || strings.HasPrefix(value, "$") {
			continue
		}
		values := []string{value}
		if op == "=~" || op == "!~" {
			values = strings.Split(value, "|")
		}
		for _, v := range values {
			if !slices.Contains(enum, v) {
				t.Errorf("%s: %s=%q is not one of metadata.yaml's values %v", where, label, v, enum)
			}
		}
	}
}

// TestEveryDeclaredMetricIsOnTheDashboard keeps the dashboard complete: a metric added to a
// metadata.yaml must get a panel (or be listed here with the reason it has none).
func TestEveryDeclaredMetricIsOnTheDashboard(t *testing.T) {
	onDashboard := metricName.FindAllString(string(Dashboard), -1)
	for name := range catalog(t) {
		if _, standard := StandardMetrics[name]; standard || strings.HasSuffix(name, "_sum") || strings.HasSuffix(name, "_count") {
			continue
		}
		if !slices.Contains(onDashboard, name) {
			t.Errorf("%s is declared in a metadata.yaml but no dashboard panel shows it", name)
		}
	}
}
