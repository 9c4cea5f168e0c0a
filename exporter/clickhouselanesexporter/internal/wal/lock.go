package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileName is the file under the exporter's root directory that one
// collector holds an flock on while it owns the directory.
const lockFileName = "LOCK"

// Lock makes this process the only owner of root (created if missing) until
// unlock is called. The lock is an flock on <root>/LOCK: the kernel drops it
// when the process dies, so a crash never leaves a stale lock behind. A
// second Lock of the same root fails, in this process or another.
func Lock(root string) (unlock func() error, err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	path := filepath.Join(root, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("log directory %s is in use by another collector (lock file %s held); give each collector its own `wal::directory`", root, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() error {
		// The file stays: removing it would let a waiting Lock hold an
		// flock on an unlinked file while a third one creates a new file.
		return errors.Join(flock(f, syscall.LOCK_UN), f.Close())
	}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
