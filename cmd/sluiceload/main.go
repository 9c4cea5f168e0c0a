// Command sluiceload is an OTLP load generator that behaves like a collector exporter, and the
// driver of `make bench`.
//
//	sluiceload send  -endpoint 127.0.0.1:4317 -senders 8 -duration 30s   # load one endpoint, print JSON
//	sluiceload bench -sluice BIN -upstream BIN -out _build/bench         # the scenarios of make bench
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/loadgen"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "send":
		err = send(ctx, os.Args[2:])
	case "bench":
		err = bench(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluiceload:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sluiceload send|bench [flags]   (-h for the flags of each)")
	os.Exit(2)
}

func send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ExitOnError)
	var cfg loadgen.Config
	var signal, tenants string
	var noRetry, flood bool
	fs.StringVar(&cfg.Protocol, "protocol", "grpc", "grpc or http")
	fs.StringVar(&cfg.Endpoint, "endpoint", "127.0.0.1:4317", "host:port for grpc, http://host:port for http")
	fs.StringVar(&signal, "signal", "traces", "traces or logs")
	fs.IntVar(&cfg.Shape.ItemsPerRequest, "items", 100, "spans or log records per request")
	fs.IntVar(&cfg.Shape.Attributes, "attributes", 6, "extra string attributes per item")
	fs.IntVar(&cfg.Senders, "senders", 8, "concurrent senders (one request in flight each)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "target requests/s across senders (0: flat out)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to offer new data")
	fs.Int64Var(&cfg.Requests, "requests", 0, "stop after this many distinct requests (0: duration only)")
	fs.StringVar(&tenants, "tenants", "", "comma-separated tenants spread over senders")
	fs.StringVar(&cfg.TenantKey, "tenant-key", "X-Scope-OrgID", "metadata key / header carrying the tenant (empty: none)")
	fs.BoolVar(&cfg.Shape.TenantInResource, "tenant-in-resource", false, "also put the tenant into resource attribute tenant.id")
	fs.BoolVar(&noRetry, "no-retry", false, "do not retry refusals")
	fs.BoolVar(&flood, "flood", false, "never back off: resend a refused request at once, ignoring hints (a flood)")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "per-attempt timeout")
	fs.Uint64Var(&cfg.SeqBase, "seq-base", 0, "first sequence number - 1 (keeps runs into one table apart)")
	_ = fs.Parse(args)
	cfg.Signal = loadgen.Signal(signal)
	if tenants != "" {
		cfg.Tenants = strings.Split(tenants, ",")
	}
	cfg.Retry = loadgen.DefaultRetry()
	cfg.Retry.Enabled = !noRetry
	if flood {
		cfg.Retry = loadgen.FloodRetry()
	}
	cfg.SampleEvery = time.Second
	cfg.OnSample = func(s loadgen.Sample) {
		fmt.Fprintf(os.Stderr, "%6.1fs acked %d items, %d attempts, %d refused\n", s.Elapsed.Seconds(), s.ItemsAcked, s.Attempts, s.Refused)
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
