package wal

import (
	"fmt"
	"time"
)

// batch is the records of concurrent Appends written with one write and one
// fsync (group commit).
type batch struct {
	buf         []byte // framed records
	first, last Index
	firstTime   time.Time
	done        bool  // written (or failed); guarded by Log.mu
	err         error // set with done
}

// Append writes one record and returns its index once the record is
// durable. Appends that arrive while a write is in progress join the next
// batch; the first of them to wake after that write becomes its leader and
// writes it, so no Append waits for more than the write in progress and its
// own. Nothing but the disk blocks an Append.
//
// Errors: ErrFull, ErrTooLarge, ErrNoSpace (wrapping the system error),
// ErrClosed, or another file system error. A failed Append leaves nothing
// readable behind and the log usable.
func (l *Log) Append(p []byte) (Index, error) {
	size := recordSize(len(p))
	if err := l.checkSize(size); err != nil {
		return 0, err
	}
	crc := payloadChecksum(p) // outside the lock: the expensive half
	now := l.opts.Now()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if err := l.reserveLocked(size); err != nil {
		return 0, err
	}
	index := l.nextIndex
	l.nextIndex++
	b := l.open
	if len(b.buf) == 0 {
		b.first, b.firstTime = index, now
		b.buf = l.spare[:0]
		l.spare = nil
	}
	b.buf = appendRecord(b.buf, index, now, p, crc)
	b.last = index
	for !b.done {
		if l.flushing {
			l.cond.Wait()
		} else {
			l.flushLocked()
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return index, nil
}

// checkSize refuses a record that could never fit.
func (l *Log) checkSize(size int64) error {
	limit := int64(maxPayload + headerSize)
	if l.opts.MaxBytes > 0 {
		limit = min(limit, l.opts.MaxBytes)
	}
	if m := l.opts.Budget.Max(); m > 0 {
		limit = min(limit, m)
	}
	if size > limit {
		return fmt.Errorf("%w: %d bytes, at most %d fit", ErrTooLarge, size, limit)
	}
	return nil
}

// reserveLocked charges size bytes to this log's share and the Budget.
func (l *Log) reserveLocked(size int64) error {
	if m := l.opts.MaxBytes; m > 0 && l.bytes+size > m {
		return fmt.Errorf("%w: the lane's share of %d bytes is used", ErrFull, m)
	}
	if !l.opts.Budget.tryReserve(size) {
		return fmt.Errorf("%w: the budget of %d bytes is used", ErrFull, l.opts.Budget.Max())
	}
	l.bytes += size
	return nil
}

// flushLocked writes the open batch as its leader. It is called with mu
// held and no flush in progress, releases mu while writing, and returns with
// mu held after waking every waiting Append.
func (l *Log) flushLocked() {
	b := l.open
	l.open = &batch{}
	l.flushing = true
	active := l.active
	l.mu.Unlock()

	seg, err := l.write(active, b)

	l.mu.Lock()
	l.flushing = false
	b.done, b.err = true, err
	if err != nil {
		size := int64(len(b.buf))
		l.bytes -= size
		l.opts.Budget.release(size)
	} else {
		l.publishLocked(active, seg, b)
	}
	if cap(b.buf) <= 4<<20 {
		l.spare = b.buf[:0]
	}
	l.cond.Broadcast()
}

// write writes b at the end of the active segment, or of a new one when the
// active one is full or missing, and syncs it. On failure it removes what it
// wrote.
func (l *Log) write(active *segment, b *batch) (*segment, error) {
	seg := active
	if seg == nil || (seg.size > 0 && seg.size+int64(len(b.buf)) > l.opts.SegmentBytes) {
		var err error
		if seg, err = createSegment(l.dir, b.first, l.opts.Sync); err != nil {
			return nil, err
		}
		seg.file = l.opts.wrap(seg.file)
	}
	start := time.Now()
	_, err := seg.file.WriteAt(b.buf, seg.size)
	if err == nil && l.opts.Sync == SyncAlways {
		err = seg.file.Sync()
		if err == nil && l.opts.OnSync != nil {
			l.opts.OnSync(time.Since(start), len(b.buf))
		}
	}
	if err != nil {
		l.undo(active, seg)
		return nil, classify("append", err)
	}
	return seg, nil
}

// undo removes a failed write: a new segment is deleted, the active one cut
// back to its durable size. If that fails too, the bytes past seg.size are
// never read, and the next write overwrites them.
func (l *Log) undo(active, seg *segment) {
	if seg != active {
		_ = seg.file.Close()
		_ = removeFile(seg.path)
		return
	}
	_ = seg.file.Truncate(seg.size)
}

// publishLocked makes a written batch readable.
func (l *Log) publishLocked(active, seg *segment, b *batch) {
	if seg != active {
		if active != nil {
			_ = active.file.Close()
			active.file = nil
		}
		l.segments = append(l.segments, seg)
		l.active = seg
	}
	seg.size += int64(len(b.buf))
	seg.last = b.last
	l.lastIndex = b.last
	if l.firstUnsent.IsZero() {
		l.firstUnsent = b.firstTime
	}
	select {
	case l.appended <- struct{}{}:
	default:
	}
}
