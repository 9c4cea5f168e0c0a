package loadbench

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// WriteJSON writes a scenario's iterations, one object per iteration, as a JSON array.
func WriteJSON(path string, its []*Iteration) error {
	b, err := json.MarshalIndent(its, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

type metric struct {
	name  string
	get   func(*Iteration) float64
	lower bool // lower is better
}

var tableMetrics = []metric{
	{"items/s acknowledged", func(i *Iteration) float64 { return i.ItemsPerSec }, false},
	// Acknowledged is not written: a log (or upstream's memory) can acknowledge faster than
	// ClickHouse takes the rows. This is the rate of rows in ClickHouse, catch-up included.
	{"items/s landed (incl. catch-up)", landedPerSec, false},
	{"collector CPU µs/item", func(i *Iteration) float64 { return i.CPUusPerItem }, true},
	{"peak RSS MiB", func(i *Iteration) float64 { return i.PeakRSSMiB }, true},
	{"p50 latency ms", func(i *Iteration) float64 { return i.P50us / 1e3 }, true},
	{"p99 latency ms", func(i *Iteration) float64 { return i.P99us / 1e3 }, true},
	{"refused attempts", func(i *Iteration) float64 { return float64(i.Attempts - i.Accepted) }, true},
	{"ClickHouse peak RSS MiB", func(i *Iteration) float64 { return i.ClickHousePeakRSSMiB }, true},
	{"catch-up s", func(i *Iteration) float64 { return i.CatchUpS }, true},
	{"ClickHouse parts created /min", func(i *Iteration) float64 { return i.PartsPerMin }, true},
	{"lost (acked, not landed)", func(i *Iteration) float64 { return float64(i.Lost) }, true},
	{"duplicates", func(i *Iteration) float64 { return float64(i.Duplicates) }, true},
	{"client CPU s", func(i *Iteration) float64 { return i.ClientCPUs }, true},
}

// floodMetrics are the flood scenario's rows, after tableMetrics (whose rows then describe both
// phases together, with the flooded phase's rates and latencies).
var floodMetrics = []metric{
	{"calm: items/s acknowledged", floodGet(func(f *Flood) float64 { return f.CalmItemsPerSec }), false},
	{"flooded: items/s acknowledged, all senders", floodGet(func(f *Flood) float64 { return f.TotalItemsPerSec }), false},
	{"flooded: items/s acknowledged, well-behaved senders", floodGet(func(f *Flood) float64 { return f.GoodItemsPerSec }), false},
	{"flooded / calm, all senders (target ≥ 0.80)", floodGet(func(f *Flood) float64 { return f.Ratio }), false},
	{"flooded / calm, well-behaved senders", floodGet(func(f *Flood) float64 { return f.GoodRatio }), false},
	{"flooded: refused attempts/s", floodGet(func(f *Flood) float64 { return f.RefusedPerSec }), false},
	{"flooded: refused attempts to well-behaved senders", floodGet(func(f *Flood) float64 { return float64(f.GoodRefused) }), true},
	{"calm: collector CPU µs/item (incl. catch-up)", floodGet(func(f *Flood) float64 { return f.CalmCPUusPerItem }), true},
	{"flooded: collector CPU s (incl. catch-up)", floodGet(func(f *Flood) float64 { return f.FloodCPUs }), true},
	{"flooded: of it, admitted items at the calm µs/item", floodGet(func(f *Flood) float64 { return f.AdmittedCPUs }), true},
	{"collector CPU µs per refused attempt (target ≤ 30)", floodGet(func(f *Flood) float64 { return f.CPUusPerRefusal }), true},
	{"flooded: refusal p99 ms (client side)", func(i *Iteration) float64 { return i.RefusalP99 / 1e3 }, true},
	{"flooded: client CPU s", floodGet(func(f *Flood) float64 { return f.FloodClientCPUs }), true},
	// The Sluice gateway's own metrics (— for upstream, which has none of them).
	{"gateway: refusal mean µs, server side", floodGet(func(f *Flood) float64 { return orNaN(f.FloodGateway.RefusedMeanUs) }), true},
	{"gateway: admitted request mean ms, calm", floodGet(func(f *Flood) float64 { return orNaN(f.CalmGateway.AcceptedMeanMs) }), true},
	{"gateway: admitted request mean ms, flooded", floodGet(func(f *Flood) float64 { return orNaN(f.FloodGateway.AcceptedMeanMs) }), true},
	{"gateway: insert mean ms, calm", floodGet(func(f *Flood) float64 { return orNaN(f.CalmGateway.InsertMeanMs) }), true},
	{"gateway: insert mean ms, flooded", floodGet(func(f *Flood) float64 { return orNaN(f.FloodGateway.InsertMeanMs) }), true},
	{"gateway: rows per insert, calm", floodGet(func(f *Flood) float64 { return orNaN(f.CalmGateway.RowsPerInsert) }), false},
	{"gateway: rows per insert, flooded", floodGet(func(f *Flood) float64 { return orNaN(f.FloodGateway.RowsPerInsert) }), false},
}

// orNaN shows a figure a pipeline does not report (zero) as —.
func orNaN(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// floodGet reads a flood figure; NaN (shown as —) for an iteration of another scenario.
func floodGet(get func(*Flood) float64) func(*Iteration) float64 {
	return func(i *Iteration) float64 {
		if i.Flood == nil {
			return math.NaN()
		}
		return get(i.Flood)
	}
}

func landedPerSec(i *Iteration) float64 {
	if d := i.DurationS + i.CatchUpS; d > 0 {
		return float64(i.Landed) / d
	}
	return 0
}

func mean(its []*Iteration, f func(*Iteration) float64) float64 {
	if len(its) == 0 {
		return math.NaN()
	}
	var s float64
	for _, it := range its {
		s += f(it)
	}
	return s / float64(len(its))
}

// WriteMarkdown writes the "sluice vs upstream" table of every scenario: means over
// iterations, one column per pipeline that ran, and each Sluice pipeline's ratio to upstream.
func WriteMarkdown(w io.Writer, scenarios []Scenario, results map[string][]*Iteration, header string) {
	fmt.Fprintf(w, "# Sluice vs upstream\n\n%s\n", header)
	for _, sc := range scenarios {
		its := results[sc.Name]
		if len(its) == 0 {
			continue
		}
		by := map[string][]*Iteration{}
		for _, it := range its {
			by[it.Pipeline] = append(by[it.Pipeline], it)
		}
		pipes := presentPipelines(by)
		fmt.Fprintf(w, "\n## %s\n\n%s. %d iteration(s) per pipeline.\n\n", sc.Name, sc.Desc, len(by[pipes[0]]))
		writeTableHeader(w, pipes)
		rows := tableMetrics
		if slices.ContainsFunc(its, func(i *Iteration) bool { return i.Flood != nil }) {
			rows = append(slices.Clip(rows), floodMetrics...)
		}
		for _, m := range rows {
			fmt.Fprintf(w, "| %s |", m.name)
			for _, p := range pipes {
				fmt.Fprintf(w, " %s |", num(mean(by[p], m.get)))
			}
			u := mean(by[Upstream], m.get)
			for _, p := range pipes {
				if p != Upstream {
					fmt.Fprintf(w, " %s |", ratio(m, mean(by[p], m.get), u))
				}
			}
			fmt.Fprintln(w)
		}
		codes := map[string]bool{}
		for _, it := range its {
			for c := range it.Refused {
				codes[c] = true
			}
		}
		var cs []string
		for c := range codes {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		for _, c := range cs {
			f := func(i *Iteration) float64 { return float64(i.Refused[c]) }
			fmt.Fprintf(w, "| refused %s |", c)
			for _, p := range pipes {
				fmt.Fprintf(w, " %s |", num(mean(by[p], f)))
			}
			fmt.Fprintln(w, strings.Repeat(" |", len(pipes)-1))
		}
		for _, p := range pipes {
			for _, it := range by[p] {
				var extra []string
				if it.BudgetMiB > 0 {
					extra = append(extra, fmt.Sprintf("budget %.0f MiB (+64 MiB allowed: %.0f)", it.BudgetMiB, it.BudgetMiB+64))
				}
				if it.QuietP99us > 0 {
					extra = append(extra, fmt.Sprintf("quiet tenants p99 %.1f ms at %.0f items/s, noisy %.0f items/s",
						it.QuietP99us/1e3, it.QuietItemsPerS, it.NoisyItemsPerS))
				}
				if it.AgentCPUs > 0 {
					extra = append(extra, fmt.Sprintf("agent CPU %.1f s, agent peak RSS %.0f MiB", it.AgentCPUs, it.AgentPeakRSS))
				}
				if it.RefusedWithoutHint > 0 {
					extra = append(extra, fmt.Sprintf("%d refusals without a retry hint", it.RefusedWithoutHint))
				}
				if it.Notes != "" {
					extra = append(extra, strings.TrimSpace(it.Notes))
				}
				if len(extra) > 0 {
					fmt.Fprintf(w, "\n- %s #%d: %s", p, it.Iteration, strings.Join(extra, "; "))
				}
			}
		}
		fmt.Fprintf(w, "\n\n![%s](%s.svg)\n", sc.Name, sc.Name)
	}
}

// pipelineOrder is the column order of the report: the Sluice pipelines, then the baseline.
var pipelineOrder = []string{Sluice, SluiceWAL, Upstream}

// presentPipelines lists the pipelines that ran, in pipelineOrder.
func presentPipelines(by map[string][]*Iteration) []string {
	var out []string
	for _, p := range pipelineOrder {
		if len(by[p]) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// writeTableHeader: one column per pipeline, then one ratio column per Sluice pipeline.
func writeTableHeader(w io.Writer, pipes []string) {
	fmt.Fprint(w, "| metric |")
	for _, p := range pipes {
		fmt.Fprintf(w, " %s |", p)
	}
	for _, p := range pipes {
		if p != Upstream {
			fmt.Fprintf(w, " %s vs upstream (>1: better) |", p)
		}
	}
	fmt.Fprint(w, "\n|---|")
	fmt.Fprintln(w, strings.Repeat("---:|", 2*len(pipes)-1))
}

// ratio is upstream / sluice for lower-is-better metrics and sluice / upstream otherwise, so
// > 1 always means Sluice did better.
func ratio(m metric, s, u float64) string {
	switch {
	case math.IsNaN(s) || math.IsNaN(u):
	case m.lower && s > 0 && u > 0:
		return fmt.Sprintf("%.2f×", u/s)
	case !m.lower && u > 0:
		return fmt.Sprintf("%.2f×", s/u)
	}
	return "—"
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// WriteSVG plots the first iteration of each pipeline over time: acknowledged items/s,
// refused attempts/s, RSS and exporter queue depth, one panel each.
func WriteSVG(path, title string, its []*Iteration) error {
	series := map[string]*Iteration{}
	for _, it := range its {
		if series[it.Pipeline] == nil {
			series[it.Pipeline] = it
		}
	}
	panels := []struct {
		name string
		get  func(Point) float64
	}{
		{"acknowledged items/s", func(p Point) float64 { return p.ItemsPerSec }},
		{"refused attempts/s", func(p Point) float64 { return p.RefusedPerS }},
		{"collector RSS MiB", func(p Point) float64 { return p.RSSMiB }},
		{"exporter queue (rows / batches)", func(p Point) float64 { return p.QueueDepth }},
	}
	colors := map[string]string{Sluice: "#1f77b4", SluiceWAL: "#2ca02c", Upstream: "#d62728"}
	const W, PH, L, R, T = 760, 150, 70, 20, 40
	H := T + len(panels)*(PH+40)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s</text>`+"\n", L, html.EscapeString(title))
	x := W - R - 240
	for i, p := range pipelineOrder {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="4" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x+i*80, 14, colors[p], x+i*80+16, 20, p)
	}
	var tmax float64
	for _, it := range series {
		for _, p := range it.Timeline {
			tmax = math.Max(tmax, p.T)
		}
	}
	if tmax == 0 {
		tmax = 1
	}
	for pi, panel := range panels {
		y0 := T + pi*(PH+40) + 10
		var vmax float64
		for _, it := range series {
			for _, p := range it.Timeline {
				vmax = math.Max(vmax, panel.get(p))
			}
		}
		if vmax == 0 {
			vmax = 1
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s (max %s)</text>`+"\n", L, y0-2, panel.name, num(vmax))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", L, y0+4, W-L-R, PH)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text><text x="%d" y="%d" text-anchor="end">0</text>`+"\n",
			L-4, y0+14, num(vmax), L-4, y0+4+PH)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%.0f s</text>`+"\n", W-R, y0+PH+18, tmax)
		for _, p := range pipelineOrder {
			it := series[p]
			if it == nil || len(it.Timeline) == 0 {
				continue
			}
			var pts []string
			for _, pt := range it.Timeline {
				px := float64(L) + pt.T/tmax*float64(W-L-R)
				py := float64(y0+4+PH) - panel.get(pt)/vmax*float64(PH)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", colors[p], strings.Join(pts, " "))
		}
	}
	b.WriteString("</svg>\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
