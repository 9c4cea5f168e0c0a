package wal

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A segment is one file of the log, named after the index of the first
// record written to it. Records in it have indexes from first to last, in
// order; gaps are possible (failed Appends, damage).
type segment struct {
	path  string
	first Index // from the file name
	last  Index // index of the last durable record; first-1 while empty
	size  int64 // bytes of durable records; readers read no further
	// file is open for appending on the active (last) segment only; readers
	// open the path for each Read, so a committed segment can be deleted
	// under them.
	file segmentFile
}

// segmentFile is what appending needs of a segment's file (an osFile);
// tests wrap it to make writes and fsyncs fail.
type segmentFile interface {
	// WritevAt writes bufs back to back at off, as WriteAt writes one
	// buffer: all of it, or an error and the bytes written. It may modify
	// the elements of bufs (not the bytes they hold).
	WritevAt(bufs [][]byte, off int64) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

const segmentSuffix = ".seg"

func segmentPath(dir string, first Index) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", first, segmentSuffix))
}

// listSegments returns the segment files in dir ordered by first index,
// without reading them.
func listSegments(dir string) ([]*segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list log directory: %w", err)
	}
	var segs []*segment
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil || first == 0 {
			continue // not ours
		}
		segs = append(segs, &segment{path: filepath.Join(dir, e.Name()), first: Index(first), last: Index(first) - 1})
	}
	slices.SortFunc(segs, func(a, b *segment) int { return cmp.Compare(a.first, b.first) })
	return segs, nil
}

// createSegment creates the file of a new segment whose first record has
// index first, and makes its directory entry durable (unless SyncNever).
func createSegment(dir string, first Index, policy SyncPolicy) (*segment, error) {
	path := segmentPath(dir, first)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, classify("create segment", err)
	}
	if err := policy.syncDir(dir); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, classify("sync log directory", err)
	}
	return &segment{path: path, first: first, last: first - 1, file: osFile{f}}, nil
}

// view is a copy of what a reader needs of a segment, taken under the lock.
type view struct {
	path        string
	first, last Index
	size        int64
}

func (s *segment) view() view { return view{path: s.path, first: s.first, last: s.last, size: s.size} }
