package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Read returns the records with index >= from, in order, holding at most
// maxBytes of payload but at least one record if there is any. It reads from
// the files (the page cache, usually), so the caller holds only what it asked
// for. Damaged records are skipped and counted once.
func (l *Log) Read(from Index, maxBytes int) ([]Record, error) {
	return l.ReadInto(&ReadBuffer{}, from, maxBytes)
}

// A ReadBuffer holds the records ReadInto returns and their payloads, and
// keeps its memory for the next call. The zero value is ready to use.
type ReadBuffer struct {
	recs []Record
	data []byte // the payloads, back to back
}

// ReadInto is Read into b: the records and their payloads are valid only
// until the next ReadInto with b. A drain worker that copies each payload
// out (into the blocks it inserts) so reads without allocating, and each
// payload is read from the file straight where it is returned.
func (l *Log) ReadInto(b *ReadBuffer, from Index, maxBytes int) ([]Record, error) {
	if cap(b.data) > 2*max(maxBytes, directReadLimit) {
		b.data = nil // grown by a large record: let it go
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	views := make([]view, len(l.segments))
	for i, s := range l.segments {
		views[i] = s.view()
	}
	h := l.hints.lookup(from)
	l.mu.Unlock()

	r := reader{log: l, from: from, maxBytes: maxBytes, out: b.recs[:0], data: b.data[:0]}
	i, pos := startOf(views, from, h)
	for ; i < len(views) && !r.full; i, pos = i+1, (hint{}) {
		if err := r.readSegment(views[i], pos); err != nil {
			return nil, err
		}
	}
	b.recs, b.data = r.out, r.data
	if len(r.out) > 0 {
		// An empty Read (a drain worker polling the tail) keeps the hints:
		// the next Read, after an Append, starts where the last one ended.
		l.mu.Lock()
		l.hints = r.hints
		l.mu.Unlock()
	}
	return r.out, nil
}

// startOf picks the segment and position to start reading at: the start
// of the last segment that begins at or before from, or the hint when it
// points at or after that and its segment is still there.
func startOf(views []view, from Index, h hint) (int, hint) {
	start := 0
	for i, v := range views {
		if v.first <= from {
			start = i
		}
	}
	for i := start; h.valid && i < len(views); i++ {
		if views[i].first == h.segment {
			return i, h
		}
	}
	return start, hint{}
}

// reader is the state of one Read.
type reader struct {
	log      *Log
	from     Index
	maxBytes int

	out   []Record
	data  []byte // where payloads are read (room); after it grew, the earlier ones are in the old array
	bytes int
	full  bool
	hints hints
}

func (r *reader) readSegment(v view, pos hint) error {
	if v.last < r.from {
		return nil
	}
	f, err := os.Open(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // committed and deleted since the snapshot
	}
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	sc := scanner{r: f, end: v.size, after: v.first - 1, payloads: true, into: r.room}
	if pos.valid {
		sc.off, sc.after = pos.off, pos.after
	}
	for {
		before := hint{valid: true, segment: v.first, off: sc.off, after: sc.after}
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read segment %s: %w", v.path, err)
		}
		if rec.damagedFrom >= 0 {
			r.log.noteDamage(damageAt{v.first, rec.damagedFrom}, damagedCount(before.after, rec.h.index))
			before.off = rec.off
		}
		if rec.h.index < r.from {
			continue
		}
		if len(r.out) > 0 && r.bytes+len(rec.payload) > r.maxBytes {
			r.hints.next = before
			r.full = true
			return nil
		}
		if len(r.out) == 0 {
			r.hints.start = before
		}
		n := len(rec.payload) // read into room: the next bytes of r.data
		r.data = r.data[:len(r.data)+n]
		r.out = append(r.out, Record{Index: rec.h.index, Time: time.Unix(0, rec.h.time), Payload: rec.payload[:n:n]})
		r.bytes += len(rec.payload)
		r.hints.next = hint{valid: true, segment: v.first, off: sc.off, after: sc.after}
	}
	if sc.off < sc.end {
		r.log.noteDamage(damageAt{v.first, sc.off}, 1)
	}
	return nil
}

// room returns n bytes past the end of r.data, where the scanner reads the
// next payload. When they do not fit, r.data starts over in a larger array:
// the payloads already returned keep the old one.
func (r *reader) room(n int) []byte {
	if cap(r.data)-len(r.data) < n {
		r.data = make([]byte, 0, max(2*cap(r.data), n))
	}
	return r.data[len(r.data) : len(r.data)+n]
}

// noteDamage counts damage found by a Read unless it was counted before.
func (l *Log) noteDamage(at damageAt, records int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.knownDamage[at]; ok {
		return
	}
	l.knownDamage[at] = struct{}{}
	l.damaged += int64(records)
}

// hint is a position in the log: the record at off in the segment starting
// at index segment is the first one with an index greater than after. A
// Read from any index > after can start there instead of at the segment's
// start.
type hint struct {
	valid   bool
	segment Index
	off     int64
	after   Index
}

// hints remembers where the last Read started and where it stopped, which
// is where a drain worker's next Read (or its retry of the same batch) starts.
type hints struct{ start, next hint }

func (h hints) lookup(from Index) hint {
	best := hint{}
	for _, c := range []hint{h.start, h.next} {
		if c.valid && c.after < from && (!best.valid || c.after > best.after) {
			best = c
		}
	}
	return best
}
