package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Options configure Start.
type Options struct {
	// DataDir holds the databases, the server log (chlocal.log) and the
	// ports file. Required; it survives Stop, Kill and Restart.
	DataDir string
	// TCPPort and HTTPPort are the ports to listen on, on 127.0.0.1.
	// 0 picks a free port.
	TCPPort, HTTPPort int
	// Log, if set, also receives the server's stdout and stderr (they always
	// go to DataDir/chlocal.log).
	Log io.Writer
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
	// Default 10s.
	StopGrace time.Duration
	// Args are extra clickhouse-local options, e.g. "--max_server_memory_usage=1G".
	Args []string
}

// DefaultStartTimeout bounds Start when ctx has no deadline. The first start
// after boot pages ~566 MB of library in from disk, hence the generous value.
const DefaultStartTimeout = 2 * time.Minute

// Server is a running (or stopped) embedded ClickHouse. Its methods may be
// called from several goroutines.
type Server struct {
	opts     Options
	lib      string
	launcher string

	mu       sync.Mutex
	p        *proc // current run; nil before the first start
	tcpPort  int
	httpPort int
}

// Start starts ClickHouse on opts.DataDir and returns once it answers
// SELECT 1 over the native protocol. It never downloads: the library must
// be in the cache already (Fetch, or FetchCommand), otherwise the error
// wraps ErrNotFetched and says what to run.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("chlocal: Options.DataDir is required")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("chlocal: %w", err)
	}
	opts.DataDir = dir
	if opts.StopGrace <= 0 {
		opts.StopGrace = 10 * time.Second
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chlocal: create data dir: %w", err)
	}
	lib, err := cachedLibrary(chdb)
	if err != nil {
		return nil, err
	}
	launcher, err := ensureLauncher(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, lib: lib, launcher: launcher, tcpPort: opts.TCPPort, httpPort: opts.HTTPPort}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startLocked(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) startLocked(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	portsFile := filepath.Join(s.opts.DataDir, portsFileName)
	// A ports file from a previous run would make readiness succeed early.
	if err := os.Remove(portsFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("chlocal: %w", err)
	}
	args := append([]string{s.lib}, serverArgs(s.opts.DataDir, portsFile, s.tcpPort, s.httpPort, s.opts.Args)...)
	p, err := spawn(s.launcher, args, s.opts.DataDir, filepath.Join(s.opts.DataDir, "chlocal.log"), s.opts.Log)
	if err != nil {
		return err
	}
	tcp, http, err := waitReady(ctx, p, portsFile)
	if err != nil {
		_ = p.signal(syscall.SIGKILL)
		<-p.done
		return err
	}
	s.p, s.tcpPort, s.httpPort = p, tcp, http
	return nil
}

// TCPAddr is the native-protocol address, "127.0.0.1:port".
func (s *Server) TCPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tcpPort))
}

// HTTPAddr is the HTTP interface address, "127.0.0.1:port".
func (s *Server) HTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpPort))
}

// Endpoint is the native-protocol URL, "tcp://127.0.0.1:port", in the form
// CLICKHOUSE_ENDPOINT and Open accept.
func (s *Server) Endpoint() string { return "tcp://" + s.TCPAddr() }

// DataDir is the absolute data directory.
func (s *Server) DataDir() string { return s.opts.DataDir }

// PID is the process id of the current server process (the launcher, which
// hosts ClickHouse in-process).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.cmd.Process.Pid
}

// Done is closed when the current server process exits, whatever the cause.
// After Restart it refers to the new process.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.done
}

// Stop asks ClickHouse to shut down (SIGTERM), waits up to
// Options.StopGrace, then kills it. Cancelling ctx kills it at once. It
// returns nil if the server was already gone, and an error if it had to be
// killed.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(ctx)
}

func (s *Server) stopLocked(ctx context.Context) error {
	p := s.p
	if p.exited() {
		return nil
	}
	// A stopped (paused) process would not act on SIGTERM until continued.
	if err := p.signal(syscall.SIGCONT); err != nil {
		return err
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	grace := time.NewTimer(s.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	return fmt.Errorf("chlocal: ClickHouse did not stop after SIGTERM; killed it")
}

// Kill sends SIGKILL and waits for the process to be gone: a crash, for
// outage tests. Data committed before the kill survives a Restart.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-s.p.done
	return nil
}

// Restart stops the server if it is running and starts it again on the same
// data directory and the same ports, so clients can reconnect to the
// addresses they already have.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(ctx); err != nil {
		return err
	}
	return s.startLocked(ctx)
}

// Pause freezes the server (SIGSTOP to its process group): connections stay
// open but nothing is answered, as in a stalled ClickHouse. It returns once
// every thread has actually stopped. Resume undoes it.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.p.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return waitAllThreadsStopped(s.p.cmd.Process.Pid, s.p.done, 10*time.Second)
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.signal(syscall.SIGCONT)
}

// LogTail returns the end of the current run's server log, for diagnostics.
func (s *Server) LogTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return logTail(filepath.Join(s.opts.DataDir, "chlocal.log"), s.p.logOffset)
}
