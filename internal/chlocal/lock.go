package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock on path, creating it if needed, and
// returns a function that releases it. flock (rather than a lock directory
// or O_EXCL file) is released by the kernel when the holder dies, so a test
// process killed mid-download never leaves the cache locked forever.
//
// It polls with LOCK_NB instead of blocking so that ctx can cancel the wait.
// note, if non-nil, is told once when the wait becomes noticeable.
func lockFile(ctx context.Context, path string, note io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chlocal: open lock file: %w", err)
	}
	start := time.Now()
	delay := 5 * time.Millisecond
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("chlocal: lock %s: %w", path, err)
		}
		if !told && note != nil && time.Since(start) > 2*time.Second {
			fmt.Fprintf(note, "chlocal: waiting for another process installing into %s\n", filepath.Dir(path))
			told = true
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, fmt.Errorf("chlocal: waiting for lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}
