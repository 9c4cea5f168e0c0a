// Command chlocal runs an embedded ClickHouse 26.7 for local development.
//
//	go run ./cmd/chlocal [-data DIR] [-tcp-port N] [-http-port N] [-nodes N] [-- command args...]
//	go run ./cmd/chlocal fetch
//
// fetch only puts ClickHouse into the cache (a ~170 MB download the first
// time on a machine) and prints where the library is; tests never download,
// so `make test` runs it first. Serving fetches too if needed.
//
// Without a command it prints the endpoints and serves until SIGINT/SIGTERM,
// then stops ClickHouse cleanly. With a command (what `make run` uses) it
// runs the command with CLICKHOUSE_ENDPOINT=tcp://... in its environment,
// forwards SIGINT/SIGTERM to it, stops ClickHouse when it exits, and exits
// with the command's status. If CLICKHOUSE_ENDPOINT is already set, that
// server is used and nothing is started.
//
// -nodes 2 (or more) starts a cluster instead, one shard per node, for trying
// docs/scale-out.md by hand: CLICKHOUSE_ENDPOINT then lists every node
// (tcp://a,b, the exporter's failover form) and CLICKHOUSE_CLUSTER names the
// cluster, for cluster_name and Distributed(...).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// ClusterEnv names the cluster for commands run next to a -nodes cluster.
const ClusterEnv = "CLICKHOUSE_CLUSTER"

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) == 2 && os.Args[1] == "fetch" {
		return fetch()
	}
	data := flag.String("data", "", "data directory, kept on exit (default: a temporary directory, removed on exit)")
	tcpPort := flag.Int("tcp-port", 0, "native protocol port on 127.0.0.1 (0: any free port; one node only)")
	httpPort := flag.Int("http-port", 0, "HTTP port on 127.0.0.1 (0: any free port; one node only)")
	nodes := flag.Int("nodes", 1, "number of nodes; 2 or more form a cluster named "+clusterName+", one shard per node")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: chlocal [flags] [-- command args...]\n       chlocal fetch\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	command := flag.Args()
	if *nodes < 1 || (*nodes > 1 && (*tcpPort != 0 || *httpPort != 0)) {
		fmt.Fprintln(os.Stderr, "chlocal: -nodes must be at least 1, and -tcp-port/-http-port need -nodes 1")
		return 2
	}

	// Registered before anything starts so that Ctrl-C during the (possibly
	// long, first-time) download cancels it instead of killing us outright.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var l *local
	env := []string{}
	if ep := os.Getenv(chlocal.EndpointEnv); ep != "" {
		fmt.Fprintf(os.Stderr, "chlocal: using %s from the environment; not starting ClickHouse\n", chlocal.EndpointEnv)
		l = &local{endpoint: ep}
	} else {
		var err error
		l, err = start(sigs, *data, *nodes, *tcpPort, *httpPort)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer l.stop()
		// For scripts that print how to query what arrived (make run).
		env = append(env, "CLICKHOUSE_HTTP_URL=http://"+l.httpAddr)
		if l.cluster != "" {
			env = append(env, ClusterEnv+"="+l.cluster)
		}
	}
	env = append(env, chlocal.EndpointEnv+"="+l.endpoint)

	if len(command) == 0 {
		// Machine-readable lines for scripts: eval-able, on stdout.
		for _, kv := range env {
			if !strings.HasPrefix(kv, "CLICKHOUSE_HTTP_URL=") {
				fmt.Println(kv)
			}
		}
		return serve(sigs, l)
	}
	return runCommand(sigs, l, env, command)
}

const clusterName = "sluice"

// local is what was started: one server or a cluster.
type local struct {
	endpoint string // native URL; all nodes of a cluster, comma-separated
	httpAddr string // of the first node
	cluster  string // "" for one server
	died     <-chan struct{}
	logTail  func() string
	stop     func()
}

// start starts ClickHouse (fetching it first if needed), cancelling the
// start on a signal. stop stops it and removes a temporary data directory.
func start(sigs <-chan os.Signal, data string, nodes, tcpPort, httpPort int) (*local, error) {
	ctx, starting := cancelOnSignal(sigs)
	defer starting()
	if _, err := chlocal.Fetch(ctx, os.Stderr); err != nil {
		return nil, err
	}
	removeData := false
	if data == "" {
		dir, err := os.MkdirTemp("", "chlocal-")
		if err != nil {
			return nil, fmt.Errorf("chlocal: %w", err)
		}
		data, removeData = dir, true
	}
	l, err := startIn(ctx, data, nodes, tcpPort, httpPort)
	if err != nil {
		if removeData {
			_ = os.RemoveAll(data)
		}
		return nil, err
	}
	stopServers := l.stop
	l.stop = func() {
		stopServers()
		if removeData {
			_ = os.RemoveAll(data)
		}
	}
	return l, nil
}

func startIn(ctx context.Context, data string, nodes, tcpPort, httpPort int) (*local, error) {
	if nodes == 1 {
		srv, err := chlocal.Start(ctx, chlocal.Options{DataDir: data, TCPPort: tcpPort, HTTPPort: httpPort})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "chlocal: ClickHouse ready (data %s)\n  native: %s\n  http:   http://%s\n",
			srv.DataDir(), srv.Endpoint(), srv.HTTPAddr())
		return &local{
			endpoint: srv.Endpoint(), httpAddr: srv.HTTPAddr(), died: srv.Done(), logTail: srv.LogTail,
			stop: func() { report(srv.Stop) },
		}, nil
	}
	c, err := chlocal.StartCluster(ctx, chlocal.ClusterOptions{Dir: data, Nodes: nodes, Name: clusterName})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "chlocal: ClickHouse cluster %q ready (data %s), one shard per node\n", c.Name(), data)
	addrs := make([]string, len(c.Nodes()))
	died := make(chan struct{})
	for i, n := range c.Nodes() {
		fmt.Fprintf(os.Stderr, "  shard %d: native %s, http http://%s\n", i+1, n.Endpoint(), n.HTTPAddr())
		addrs[i] = n.TCPAddr()
		go func(done <-chan struct{}) {
			<-done
			select {
			case <-died:
			default:
				close(died)
			}
		}(n.Done())
	}
	return &local{
		endpoint: "tcp://" + strings.Join(addrs, ","), httpAddr: c.Nodes()[0].HTTPAddr(), cluster: c.Name(),
		died: died, stop: func() { report(c.Stop) },
		logTail: func() string {
			var b strings.Builder
			for i, n := range c.Nodes() {
				fmt.Fprintf(&b, "shard %d (%s):\n%s\n", i+1, n.DataDir(), n.LogTail())
			}
			return b.String()
		},
	}, nil
}

// report runs stop with a bounded context and says how it went.
func report(stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		fmt.Fprintln(os.Stderr, "chlocal: ClickHouse stopped")
	}
}

// cancelOnSignal returns a context that a signal cancels until done is
// called: startup (a first-time download included) can be interrupted, and
// later signals are left to the caller.
func cancelOnSignal(sigs <-chan os.Signal) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "chlocal: %v during startup; giving up\n", sig)
			cancel()
		case <-started:
		}
	}()
	return ctx, func() { close(started); cancel() }
}

// serve waits for a signal, or for ClickHouse to die on its own.
func serve(sigs <-chan os.Signal, l *local) int {
	select {
	case sig := <-sigs:
		fmt.Fprintf(os.Stderr, "chlocal: %v; stopping\n", sig)
		return 0
	case <-l.died:
		fmt.Fprintf(os.Stderr, "chlocal: ClickHouse exited unexpectedly; log tail:\n%s\n", l.logTail())
		return 1
	}
}
