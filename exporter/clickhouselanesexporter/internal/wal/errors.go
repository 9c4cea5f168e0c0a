package wal

import (
	"errors"
	"fmt"
	"syscall"
)

var (
	// ErrFull: this log's share or the shared Budget has no room for the
	// record. A refusal (429): the lane must drain before it takes more.
	ErrFull = errors.New("write-ahead log full")
	// ErrNoSpace: the file system has no room (ENOSPC or EDQUOT), wrapped
	// around the system error. Also a refusal; the log stays usable.
	ErrNoSpace = errors.New("no space left for the write-ahead log")
	// ErrTooLarge: the record can never fit (larger than the log's share,
	// the Budget or the format's limit); retrying will not help.
	ErrTooLarge = errors.New("record too large for the write-ahead log")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("write-ahead log closed")
)

// classify wraps a file system error with what was being done, and with
// ErrNoSpace when the disk or quota is full. nil stays nil.
func classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%s: %w: %w", op, ErrNoSpace, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
