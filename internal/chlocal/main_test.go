package chlocal

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv switches the test binary into a helper process (see
// runHelper); tests re-exec themselves to get a second, killable process.
const helperEnv = "CHLOCAL_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	goleak.VerifyTestMain(m)
}

// runHelper implements the helper processes:
//   - "install": run one artifact.ensure described by CHLOCAL_TEST_* vars;
//   - "orphan-exit", "orphan-panic": start a server, report its pid and
//     port on stdout, then die without stopping it.
func runHelper(mode string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch mode {
	case "install":
		a := fakeArtifact(os.Getenv("CHLOCAL_TEST_DEST"), os.Getenv("CHLOCAL_TEST_URL"), os.Getenv("CHLOCAL_TEST_INTEGRITY"))
		if err := a.ensure(ctx, os.Getenv("CHLOCAL_TEST_LOCK")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "orphan-exit", "orphan-panic":
		s, err := Start(ctx, Options{DataDir: os.Getenv("CHLOCAL_TEST_DIR")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%d %s\n", s.PID(), s.TCPAddr())
		if mode == "orphan-panic" {
			panic("helper dies without stopping ClickHouse")
		}
		return 3
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 2
}
