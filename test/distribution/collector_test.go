package distribution

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/loadbench"
)

// collectorBin returns the distribution binary, or skips when it was not built for this run.
func collectorBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SLUICE_COLLECTOR_BIN")
	if bin == "" {
		t.Skip("SLUICE_COLLECTOR_BIN is not set; run `make distribution-test`")
	}
	return bin
}

// repoRoot is two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// freePort asks the kernel for a port that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := loadbench.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// runCollector runs the collector to completion and returns its combined output.
func runCollector(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, collectorBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startCollector runs the collector with config (the YAML itself), waits until it listens
// on addrs, and stops it at cleanup, printing its output if the test failed.
func startCollector(t *testing.T, config string, addrs ...string) *loadbench.Collector {
	t.Helper()
	c, err := loadbench.StartCollector(collectorBin(t), "collector", t.TempDir(), config, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("collector output:\n%s", c.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitListening(ctx, addrs...); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComponentsListed(t *testing.T) {
	out, err := runCollector(t, nil, "components")
	if err != nil {
		t.Fatalf("components: %v\n%s", err, out)
	}
	for _, name := range []string{
		"sluice", "otlp", "clickhouselanes", "otlp_grpc", "otlp_http", "debug",
		"batch", "memory_limiter", "zpages",
	} {
		if !strings.Contains(out, "- name: "+name+"\n") {
			t.Errorf("component %q missing from `components`:\n%s", name, out)
		}
	}
}

func TestValidateEveryTestdataConfig(t *testing.T) {
	configs, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "*.yaml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no configs found in testdata: %v", err)
	}
	for _, config := range configs {
		t.Run(filepath.Base(config), func(t *testing.T) {
			out, err := runCollector(t, []string{"CLICKHOUSE_ENDPOINT=tcp://127.0.0.1:9000"}, "validate", "--config", config)
			if err != nil {
				t.Fatalf("validate %s: %v\n%s", config, err, out)
			}
		})
	}
}

func TestValidateRejectsBrokenConfig(t *testing.T) {
	config := filepath.Join(t.TempDir(), "broken.yaml")
	body := `
receivers:
  sluice:
    admission:
      retry_after: 500ms
exporters:
  clickhouselanes:
    endpoint: tcp://127.0.0.1:9000
service:
  pipelines:
    traces:
      receivers: [sluice]
      exporters: [clickhouselanes]
`
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCollector(t, nil, "validate", "--config", config)
	if err == nil {
		t.Fatalf("validate accepted retry_after: 500ms:\n%s", out)
	}
	if !strings.Contains(out, "retry_after") {
		t.Errorf("the error does not name the bad key:\n%s", out)
	}
}
