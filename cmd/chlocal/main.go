// Command chlocal runs an embedded ClickHouse 26.7 for local development.
//
//	go run ./cmd/chlocal [-data DIR] [-tcp-port N] [-http-port N] [-- command args...]
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
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/chlocal"
)

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) == 2 && os.Args[1] == "fetch" {
		return fetch()
	}
	data := flag.String("data", "", "data directory, kept on exit (default: a temporary directory, removed on exit)")
	tcpPort := flag.Int("tcp-port", 0, "native protocol port on 127.0.0.1 (0: any free port)")
	httpPort := flag.Int("http-port", 0, "HTTP port on 127.0.0.1 (0: any free port)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: chlocal [flags] [-- command args...]\n       chlocal fetch\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	command := flag.Args()

	// Registered before anything starts so that Ctrl-C during the (possibly
	// long, first-time) download cancels it instead of killing us outright.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	endpoint := os.Getenv(chlocal.EndpointEnv)
	var srv *chlocal.Server
	if endpoint != "" {
		fmt.Fprintf(os.Stderr, "chlocal: using %s from the environment; not starting ClickHouse\n", chlocal.EndpointEnv)
	} else {
		var cleanup func()
		var err error
		srv, cleanup, err = startServer(sigs, *data, *tcpPort, *httpPort)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		endpoint = srv.Endpoint()
		fmt.Fprintf(os.Stderr, "chlocal: ClickHouse ready (data %s)\n  native: %s\n  http:   http://%s\n",
			srv.DataDir(), endpoint, srv.HTTPAddr())
	}

	if len(command) == 0 {
		// Machine-readable line for scripts: eval-able, on stdout.
		fmt.Printf("%s=%s\n", chlocal.EndpointEnv, endpoint)
		return serve(sigs, srv)
	}
	return runCommand(sigs, srv, endpoint, command)
}

// startServer starts ClickHouse, cancelling the start on a signal. The
// returned cleanup stops it and removes a temporary data directory.
func startServer(sigs <-chan os.Signal, data string, tcpPort, httpPort int) (*chlocal.Server, func(), error) {
	ctx, starting := cancelOnSignal(sigs)
	defer starting()
	if _, err := chlocal.Fetch(ctx, os.Stderr); err != nil {
		return nil, nil, err
	}
	removeData := false
	if data == "" {
		dir, err := os.MkdirTemp("", "chlocal-")
		if err != nil {
			return nil, nil, fmt.Errorf("chlocal: %w", err)
		}
		data, removeData = dir, true
	}
	srv, err := chlocal.Start(ctx, chlocal.Options{DataDir: data, TCPPort: tcpPort, HTTPPort: httpPort})
	if err != nil {
		if removeData {
			_ = os.RemoveAll(data)
		}
		return nil, nil, err
	}
	cleanup := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		} else {
			fmt.Fprintln(os.Stderr, "chlocal: ClickHouse stopped")
		}
		if removeData {
			_ = os.RemoveAll(data)
		}
	}
	return srv, cleanup, nil
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
func serve(sigs <-chan os.Signal, srv *chlocal.Server) int {
	var died <-chan struct{}
	if srv != nil {
		died = srv.Done()
	}
	select {
	case sig := <-sigs:
		fmt.Fprintf(os.Stderr, "chlocal: %v; stopping\n", sig)
		return 0
	case <-died:
		fmt.Fprintf(os.Stderr, "chlocal: ClickHouse exited unexpectedly; log tail:\n%s\n", srv.LogTail())
		return 1
	}
}
