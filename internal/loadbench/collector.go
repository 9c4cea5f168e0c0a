package loadbench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Collector is a running collector process.
type Collector struct {
	Name        string
	MetricsPort int
	cmd         *exec.Cmd
	out         *lockedBuffer
	exited      chan struct{}
	waitErr     error
}

// StartCollector writes config into dir and starts bin with it, in this process's
// environment plus env ("KEY=value", e.g. GOGC). Output goes to dir/<name>.log as well as
// to Output().
func StartCollector(bin, name, dir, config string, metricsPort int, env ...string) (*Collector, error) {
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "--config", path)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	w := io.MultiWriter(out, logf)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &Collector{Name: name, MetricsPort: metricsPort, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	return c, nil
}

// PID is the collector's process id.
func (c *Collector) PID() int { return c.cmd.Process.Pid }

// Output is everything the collector logged so far.
func (c *Collector) Output() string { return c.out.String() }

// WaitListening waits until every addr accepts connections, the collector exits, or ctx ends.
func (c *Collector) WaitListening(ctx context.Context, addrs ...string) error {
	for _, addr := range addrs {
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-c.exited:
				return fmt.Errorf("%s exited before listening on %s: %v\n%s", c.Name, addr, c.waitErr, tail(c.Output(), 4000))
			case <-ctx.Done():
				return fmt.Errorf("%s did not listen on %s: %w", c.Name, addr, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stop sends SIGTERM and waits up to grace before SIGKILL.
func (c *Collector) Stop(grace time.Duration) error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%s did not stop within %s", c.Name, grace)
	}
	return nil
}

// Kill sends SIGKILL, a crash the collector cannot see coming, and waits for the exit.
func (c *Collector) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Metrics scrapes the collector's Prometheus endpoint.
func (c *Collector) Metrics(ctx context.Context) (Prom, error) {
	return Scrape(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.MetricsPort))
}

// Prom is a scraped Prometheus text exposition: one line a sample.
type Prom []string

// Scrape fetches a Prometheus text endpoint.
func Scrape(ctx context.Context, url string) (Prom, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var p Prom
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			p = append(p, line)
		}
	}
	return p, nil
}

// Sum adds the values of the samples whose metric name starts with prefix and whose labels
// contain every one of labels (each like `outcome="refused"`).
func (p Prom) Sum(prefix string, labels ...string) float64 {
	var sum float64
	for _, line := range p {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err == nil && !math.IsNaN(v) {
			sum += v
		}
	}
	return sum
}

// FreePort asks the kernel for a loopback port that is free right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the last few MiB only: a long run must not grow without bound.
	if b.buf.Len() > 4<<20 {
		rest := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-(1<<20):]...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
