package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// zooKeeperJar is where Debian's zookeeper package puts the server.
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// ErrNoZooKeeper means ZooKeeper (Debian's zookeeper package, with java) is not installed.
var ErrNoZooKeeper = errors.New("chlocal: ZooKeeper is not installed (apt-get install zookeeper)")

// ZooKeeper is a single ZooKeeper server on a free loopback port, for clusters whose nodes
// create ReplicatedMergeTree tables (ClusterOptions.ZooKeeper). The embedded nodes cannot
// replicate (clickhouse-local has no interserver listener): their replicated tables are
// created, and stay read-only.
type ZooKeeper struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartZooKeeper starts ZooKeeper with its data and log in dir and returns once it serves
// requests.
func StartZooKeeper(ctx context.Context, dir string) (*ZooKeeper, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrNoZooKeeper
	}
	if ok, _ := regularFileExists(zooKeeperJar); !ok {
		return nil, ErrNoZooKeeper
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	cfg := filepath.Join(dir, "zoo.cfg")
	body := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\n4lw.commands.whitelist=srvr\n", filepath.Join(dir, "data"), ports[0])
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return nil, fmt.Errorf("chlocal: write zoo.cfg: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		return nil, fmt.Errorf("chlocal: %w", err)
	}
	cmd := exec.Command(java, "-cp", zooKeeperJar, "-Dzookeeper.log.dir="+dir,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("chlocal: start ZooKeeper: %w", err)
	}
	z := &ZooKeeper{addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(z.done)
	}()
	for !z.ok() {
		select {
		case <-z.done:
			return nil, fmt.Errorf("chlocal: ZooKeeper exited during startup; log %s:\n%s", log.Name(), logTail(log.Name(), 0))
		case <-ctx.Done():
			z.Stop()
			return nil, fmt.Errorf("chlocal: ZooKeeper not ready: %w", context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	return z, nil
}

// ok asks ZooKeeper "srvr". "ruok" is not enough: it answers "imok" before the server
// serves sessions, and clients connecting then are hung up on.
func (z *ZooKeeper) ok() bool {
	c, err := net.DialTimeout("tcp", z.addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "srvr"); err != nil {
		return false
	}
	out, _ := io.ReadAll(c)
	return strings.Contains(string(out), "Mode: standalone")
}

// Addr is host:port of the client port.
func (z *ZooKeeper) Addr() string { return z.addr }

// Stop kills ZooKeeper (its state is the test's, nothing to flush) and waits for it.
func (z *ZooKeeper) Stop() {
	_ = syscall.Kill(-z.cmd.Process.Pid, syscall.SIGKILL)
	<-z.done
}
