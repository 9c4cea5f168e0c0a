package chlocal

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoOrphanWhenOwnerDies starts a server from a helper process that then
// dies without stopping it (os.Exit, or an unrecovered panic), and checks
// that ClickHouse dies with it.
func TestNoOrphanWhenOwnerDies(t *testing.T) {
	if os.Getenv(EndpointEnv) != "" {
		t.Skipf("%s is set", EndpointEnv)
	}
	for _, mode := range []string{"orphan-exit", "orphan-panic"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			exe, err := os.Executable()
			require.NoError(t, err)
			cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+mode, "CHLOCAL_TEST_DIR="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())

			var pid int
			var addr string
			line, readErr := bufio.NewReader(stdout).ReadString('\n')
			// stderr may only be read once Wait has collected it.
			waitErr := cmd.Wait()
			require.NoError(t, readErr, "helper stderr: %s", stderr.String())
			_, err = fmt.Sscan(line, &pid, &addr)
			require.NoError(t, err, "helper said %q", line)
			require.Error(t, waitErr, "the helper is meant to die abnormally")
			if mode == "orphan-panic" {
				require.Contains(t, stderr.String(), "panic: helper dies")
			}

			// The helper is gone; its server must follow promptly. Both the
			// process and its listener are checked: a dying multi-threaded
			// process shows as a zombie before its last thread has closed
			// its sockets.
			deadline := time.Now().Add(10 * time.Second)
			for processAlive(pid) || listening(addr) {
				if time.Now().After(deadline) {
					_ = syscall.Kill(pid, syscall.SIGKILL) // do not leak it past the test
					t.Fatalf("ClickHouse (pid %d, %s) outlived its owner", pid, addr)
				}
				time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising
			}
		})
	}
}

// processAlive reports whether pid runs and is not a zombie. A zombie counts
// as dead: it holds no sockets and is merely waiting for init to reap it.
// PID reuse is ruled out by requiring the launcher's name.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: "pid (comm) state ..."; comm may contain spaces, so split at ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	comm := s[strings.IndexByte(s, '(')+1 : i]
	return s[i+2] != 'Z' && strings.HasPrefix("chlocal-launcher", comm)
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
