package wal

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// iovMax is the most buffers one pwritev takes (IOV_MAX on Linux); a batch
// of more records is written with several calls.
const iovMax = 1024

// osFile is a segment's file: an *os.File with a vectored write, so the
// group commit writes its records' headers and the callers' payloads in
// place, without first copying them into one buffer.
type osFile struct{ *os.File }

// WritevAt writes bufs back to back at off with pwritev on the file's
// descriptor. Like WriteAt, it writes everything or returns an error with
// the number of bytes written. It may modify the elements of bufs.
func (f osFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	// Control keeps the descriptor open while the write runs.
	if err := rc.Control(func(fd uintptr) { n, werr = pwritevAll(unix.Pwritev, int(fd), bufs, off) }); err != nil {
		return 0, err
	}
	if werr != nil {
		return n, &os.PathError{Op: "pwritev", Path: f.Name(), Err: werr}
	}
	return n, nil
}

// pwritevAll writes bufs at off with as many calls of pwritev as it takes:
// at most iovMax buffers per call, again after a short write (from where it
// ended; the buffers it finished are dropped and the one it cut is
// resliced, in bufs itself) and after EINTR. It returns the bytes written.
func pwritevAll(pwritev func(fd int, bufs [][]byte, off int64) (int, error), fd int, bufs [][]byte, off int64) (int, error) {
	total := 0
	for {
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
		if len(bufs) == 0 {
			return total, nil
		}
		n, err := pwritev(fd, bufs[:min(len(bufs), iovMax)], off)
		if n > 0 {
			total += n
			off += int64(n)
			bufs = consumed(bufs, n)
		}
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return total, err
		case n <= 0:
			return total, io.ErrShortWrite // a regular file never does this; do not spin
		}
	}
}

// consumed drops the first n bytes from bufs.
func consumed(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}
