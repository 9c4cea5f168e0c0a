package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// fetch puts ClickHouse into the cache (downloading it once per machine) and
// prints the library's path on stdout. `make test` and `make run` run it
// before anything else, so no test process ever downloads.
func fetch() int {
	if os.Getenv(chlocal.EndpointEnv) != "" {
		fmt.Fprintf(os.Stderr, "chlocal: %s is set; nothing to fetch\n", chlocal.EndpointEnv)
		return 0
	}
	// Ctrl-C cancels the download cleanly (no partial file is left behind).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lib, err := chlocal.Fetch(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(lib)
	return 0
}
