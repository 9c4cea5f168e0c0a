package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadbench"
)

func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	sluiceBin := fs.String("sluice", "_build/otelcol-sluice/otelcol-sluice", "otelcol-sluice binary")
	upstreamBin := fs.String("upstream", "_build/otelcol-upstream/otelcol-upstream", "upstream baseline binary (empty: the sluice pipelines only)")
	out := fs.String("out", "_build/bench", "output directory")
	iterations := fs.Int("iterations", 1, "iterations per scenario and pipeline (alternating)")
	scale := fs.Float64("scale", 1, "multiplies load durations (the 20 s stall is fixed)")
	only := fs.String("scenarios", "", "comma-separated scenario names (default: all)")
	onlyPipelines := fs.String("pipelines", "", "comma-separated pipelines among sluice, sluice-wal, upstream (default: all)")
	collectorEnv := fs.String("collector-env", "", "comma-separated KEY=value added to every collector's environment, e.g. GOGC=400,GOMEMLIMIT=256MiB")
	_ = fs.Parse(args)

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
	}
	pipelines := []string{loadbench.Sluice, loadbench.SluiceWAL, loadbench.Upstream}
	if *upstreamBin == "" {
		pipelines = pipelines[:2]
	} else if _, err := os.Stat(*upstreamBin); err != nil {
		return fmt.Errorf("upstream binary: %w (build it with `make bench-upstream`, or pass -upstream '')", err)
	}
	if *onlyPipelines != "" {
		want := strings.Split(*onlyPipelines, ",")
		pipelines = slices.DeleteFunc(pipelines, func(p string) bool { return !slices.Contains(want, p) })
	}
	var err error
	if *sluiceBin, err = filepath.Abs(*sluiceBin); err != nil {
		return err
	}
	if *upstreamBin != "" {
		if *upstreamBin, err = filepath.Abs(*upstreamBin); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(*out, "clickhouse")
	_ = os.RemoveAll(dataDir)
	sctx, cancel := context.WithTimeout(ctx, chlocal.DefaultStartTimeout)
	ch, err := chlocal.Start(sctx, chlocal.Options{DataDir: dataDir})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = ch.Stop(c)
		_ = os.WriteFile(filepath.Join(*out, "clickhouse.log"), []byte(ch.LogTail()), 0o644)
		_ = os.RemoveAll(dataDir)
	}()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	conn, err := chlocal.Open(cctx, ch.Endpoint())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()

	env := &loadbench.Env{SluiceBin: *sluiceBin, UpstreamBin: *upstreamBin, CH: ch, Conn: conn,
		OutDir: *out, Scale: *scale, Lanes: loadbench.SupportsLanes(*sluiceBin), Log: logf}
	if *collectorEnv != "" {
		env.CollectorEnv = strings.Split(*collectorEnv, ",")
		logf("collectors run with %v", env.CollectorEnv)
	}
	logf("ClickHouse at %s; lanes keys supported by otelcol-sluice: %v", ch.Endpoint(), env.Lanes)

	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	var scenarios []loadbench.Scenario
	for _, sc := range loadbench.Scenarios() {
		if len(want) == 0 || want[sc.Name] {
			scenarios = append(scenarios, sc)
		}
	}
	results := map[string][]*loadbench.Iteration{}
	started := time.Now()
	for _, sc := range scenarios {
		for i := range *iterations {
			// Rotate which pipeline goes first, so none always gets the warmer cache.
			order := append(append([]string(nil), pipelines[i%len(pipelines):]...), pipelines[:i%len(pipelines)]...)
			for _, p := range order {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				logf("%s: %s iteration %d", sc.Name, p, i+1)
				it, err := sc.Run(ctx, env, p, i+1)
				if died, rerr := env.EnsureClickHouse(ctx); died && it != nil {
					it.Notes += "ClickHouse died during this iteration (its log tail is in the output directory). "
				} else if rerr != nil {
					return rerr
				}
				if err != nil {
					logf("%s/%s failed: %v", sc.Name, p, err)
					if it == nil {
						continue
					}
					it.Notes += "error: " + err.Error()
				}
				logf("  %.0f items/s, %.2f µs CPU/item, peak RSS %.0f MiB, refused %v, acked %d, landed %d, dup %d, lost %d, catch-up %.1fs",
					it.ItemsPerSec, it.CPUusPerItem, it.PeakRSSMiB, it.Refused, it.ItemsAcked, it.Landed, it.Duplicates, it.Lost, it.CatchUpS)
				if f := it.Flood; f != nil {
					logf("  calm %.0f items/s at %.2f µs CPU/item; flooded %.0f items/s (well-behaved %.0f), ratio %.2f, %.0f refused/s, %.1f µs CPU per refusal",
						f.CalmItemsPerSec, f.CalmCPUusPerItem, f.TotalItemsPerSec, f.GoodItemsPerSec, f.Ratio, f.RefusedPerSec, f.CPUusPerRefusal)
				}
				results[sc.Name] = append(results[sc.Name], it)
			}
		}
		if err := loadbench.WriteJSON(filepath.Join(*out, sc.Name+".json"), results[sc.Name]); err != nil {
			return err
		}
		if err := loadbench.WriteSVG(filepath.Join(*out, sc.Name+".svg"), sc.Name+": "+sc.Desc, results[sc.Name]); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	flags := fmt.Sprintf("-scale %g -iterations %d", *scale, *iterations)
	if *only != "" {
		flags += " -scenarios " + *only
	}
	if *onlyPipelines != "" {
		flags += " -pipelines " + *onlyPipelines
	}
	header := fmt.Sprintf("Run %s on %s (%s, %d CPUs, %s), ClickHouse 26.7 embedded on loopback, scale %g, %d iteration(s), total %s.\n"+
		"Command: `make bench BENCH_FLAGS='%s'`. Lanes keys in use: %v.",
		started.UTC().Format(time.RFC3339), host, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(),
		*scale, *iterations, time.Since(started).Round(time.Second), flags, env.Lanes)
	var md bytes.Buffer
	loadbench.WriteMarkdown(&md, scenarios, results, header)
	path := filepath.Join(*out, "summary.md")
	if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
		return err
	}
	logf("wrote %s", path)
	return nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if i := strings.IndexByte(line, ':'); i >= 0 {
				return strings.TrimSpace(line[i+1:])
			}
		}
	}
	return "unknown CPU"
}
