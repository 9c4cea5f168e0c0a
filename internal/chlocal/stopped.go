package chlocal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// waitAllThreadsStopped polls /proc until every thread of pid is in the
// stopped state. kill(SIGSTOP) returns before the target's threads have
// actually stopped, and a thread busy on another CPU can still answer a
// request in between; Pause waits here so that "paused" really means no
// ClickHouse code runs any more.
func waitAllThreadsStopped(pid int, done <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := allThreadsStopped(pid)
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chlocal: ClickHouse (pid %d) did not stop within %v after SIGSTOP", pid, timeout)
		}
		select {
		case <-done:
			return fmt.Errorf("chlocal: ClickHouse (pid %d) exited while being paused", pid)
		case <-time.After(time.Millisecond):
		}
	}
}

func allThreadsStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false, fmt.Errorf("chlocal: cannot inspect threads of pid %d: %v", pid, err)
	}
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			return false, nil // thread exited meanwhile; look again
		}
		// "tid (comm) S ...": the state follows the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			return false, nil
		}
		if st := s[i+2]; st != 'T' && st != 't' {
			return false, nil
		}
	}
	return true, nil
}
