package distribution

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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

// collector is a running otelcol-sluice process.
type collector struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan error
}

// startCollector starts the collector with a config file and stops it at cleanup.
func startCollector(t *testing.T, config string, env ...string) *collector {
	t.Helper()
	cmd := exec.Command(collectorBin(t), "--config", config)
	cmd.Env = append(os.Environ(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &collector{cmd: cmd, output: out, exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("collector output:\n%s", out.String())
		}
	})
	return c
}

// waitListening waits until addr accepts connections or the collector exits.
func (c *collector) waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-c.exited:
			t.Fatalf("collector exited before listening on %s: %v", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("collector did not listen on %s within a minute", addr)
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

func writeConfig(t *testing.T, format string, args ...any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(format, args...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
