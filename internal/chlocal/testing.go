package chlocal

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// EndpointEnv names the variable that points tests and cmd/chlocal at an
// existing ClickHouse instead of an embedded one.
const EndpointEnv = "CLICKHOUSE_ENDPOINT"

// ForTest returns a native-protocol endpoint for a test: $CLICKHOUSE_ENDPOINT
// if set (nothing is started), else a fresh embedded server in t.TempDir()
// that is stopped by t.Cleanup. Tests should create uniquely named tables,
// because an external server may be shared.
func ForTest(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EndpointEnv); ep != "" {
		return ep
	}
	return StartForTest(t).Endpoint()
}

// StartForTest always starts an embedded server, for tests that stop, kill,
// restart or pause it. Since those tests cannot run against an external
// server, it skips the test when $CLICKHOUSE_ENDPOINT is set. Setup errors
// (ClickHouse not fetched, no gcc) fail the test rather than skip it, so a
// broken environment is never mistaken for passing tests.
func StartForTest(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EndpointEnv) != "" {
		t.Skipf("chlocal: %s is set; this test needs an embedded ClickHouse it can stop and restart", EndpointEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	s, err := Start(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err) // errors from Start already say "chlocal: ..."
	}
	// Registered after t.TempDir, so it runs before the directory is removed.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chlocal: server log tail (%s):\n%s", s.DataDir(), s.LogTail())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("chlocal: stop: %v", err)
		}
	})
	return s
}

// StartClusterForTest starts a cluster in t.TempDir() (opts.Dir is ignored)
// and stops it in t.Cleanup. Like StartForTest, it skips the test when
// $CLICKHOUSE_ENDPOINT is set.
func StartClusterForTest(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	if os.Getenv(EndpointEnv) != "" {
		t.Skipf("chlocal: %s is set; this test needs embedded ClickHouse nodes of its own", EndpointEnv)
	}
	opts.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	c, err := StartCluster(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Nodes() {
				t.Logf("chlocal: server log tail (%s):\n%s", n.DataDir(), n.LogTail())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("chlocal: stop cluster: %v", err)
		}
	})
	return c
}

// StartZooKeeperForTest starts ZooKeeper for the test, or skips it when ZooKeeper is not
// installed: the tests that need it are extra checks, not something every machine can run.
func StartZooKeeperForTest(t testing.TB) *ZooKeeper {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	z, err := StartZooKeeper(ctx, t.TempDir())
	if errors.Is(err, ErrNoZooKeeper) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(z.Stop)
	return z
}
