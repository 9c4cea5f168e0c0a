package wal

import (
	"fmt"
	"io"
	"time"
)

// batch is the records of concurrent Appends written with one vectored
// write and one fsync (group commit).
//
// Payloads are not copied: payloads[i] is the slice the caller of record i
// passed to Append. That is safe because every such caller is blocked in
// Append until done is set, which happens only after the write has
// finished, so each slice stays valid (and, by Append's contract,
// unmodified) for as long as the batch refers to it; the references are
// cleared before the batch's slices are reused.
type batch struct {
	headers     []byte   // the records' headers, headerSize bytes each, in order
	payloads    [][]byte // the callers' payloads, one per header
	tags        []uint32 // the callers' tags (AppendTagged), one per header
	untagged    bool     // a record came from Append: the log does not remember this batch
	size        int64    // bytes on disk: headers and payloads
	first, last Index
	firstTime   time.Time
	done        bool  // written (or failed); guarded by Log.mu
	err         error // set with done
}

// batchBuffers are the slices of a written batch, kept for the next one so
// a batch does not allocate them again.
type batchBuffers struct {
	headers  []byte
	payloads [][]byte
	tags     []uint32
}

// maxSpareRecords bounds the slices kept for reuse after a burst.
const maxSpareRecords = 1 << 16

// Append writes one record and returns its index once the record is
// durable. Appends that arrive while a write is in progress join the next
// batch; the first of them to wake after that write becomes its leader and
// writes it, so no Append waits for more than the write in progress and its
// own. Nothing but the disk blocks an Append.
//
// Errors: ErrFull, ErrTooLarge, ErrNoSpace (wrapping the system error),
// ErrClosed, or another file system error. A failed Append leaves nothing
// readable behind and the log usable.
//
// p is written from where it is, not copied: it must not be modified until
// Append returns. Append does not modify it nor keep it after returning.
func (l *Log) Append(p []byte) (Index, error) { return l.append(p, 0, false) }

func (l *Log) append(p []byte, tag uint32, tagged bool) (Index, error) {
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
	if len(b.payloads) == 0 {
		b.first, b.firstTime = index, now
		b.headers, b.payloads, b.tags = l.spare.headers[:0], l.spare.payloads[:0], l.spare.tags[:0]
		l.spare = batchBuffers{}
	}
	b.tags = append(b.tags, tag)
	b.untagged = b.untagged || !tagged
	b.headers = appendHeader(b.headers, index, now, len(p), crc)
	b.payloads = append(b.payloads, p) // not copied: we wait below until it is written
	b.size += size
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
		l.bytes -= b.size
		l.opts.Budget.release(b.size)
	} else {
		l.publishLocked(active, seg, b)
	}
	clear(b.payloads) // the callers get their slices back
	if cap(b.payloads) <= maxSpareRecords {
		l.spare = batchBuffers{headers: b.headers[:0], payloads: b.payloads[:0], tags: b.tags[:0]}
	}
	b.headers, b.payloads, b.tags = nil, nil, nil
	l.cond.Broadcast()
}

// write writes b at the end of the active segment, or of a new one when the
// active one is full or missing, with one vectored write, and syncs it. On
// failure it removes what it wrote. Only the leader calls it.
func (l *Log) write(active *segment, b *batch) (*segment, error) {
	seg := active
	if seg == nil || (seg.size > 0 && seg.size+b.size > l.opts.SegmentBytes) {
		var err error
		if seg, err = createSegment(l.dir, b.first, l.opts.Sync); err != nil {
			return nil, err
		}
		seg.file = l.opts.wrap(seg.file)
	}
	start := time.Now()
	iovecs := l.iovecs(b)
	n, err := seg.file.WritevAt(iovecs, seg.size)
	clear(iovecs) // keep no caller's payload alive
	if err == nil && int64(n) != b.size {
		err = fmt.Errorf("wrote %d of %d bytes: %w", n, b.size, io.ErrShortWrite)
	}
	if err == nil && l.opts.Sync == SyncAlways {
		err = seg.file.Sync()
		if err == nil && l.opts.OnSync != nil {
			l.opts.OnSync(time.Since(start), int(b.size))
		}
	}
	if err != nil {
		l.undo(active, seg)
		return nil, classify("append", err)
	}
	return seg, nil
}

// iovecs returns b's records as buffers to write, each header followed by
// its payload, in l.iov (reused from batch to batch: only the leader, one
// at a time, calls it).
func (l *Log) iovecs(b *batch) [][]byte {
	iov := l.iov[:0]
	for i, p := range b.payloads {
		iov = append(iov, b.headers[i*headerSize:(i+1)*headerSize:(i+1)*headerSize])
		if len(p) > 0 {
			iov = append(iov, p)
		}
	}
	if cap(iov) <= 2*maxSpareRecords {
		l.iov = iov
	}
	return iov
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
	seg.size += b.size
	seg.last = b.last
	l.lastIndex = b.last
	l.tags.add(b)
	if l.firstUnsent.IsZero() {
		l.firstUnsent = b.firstTime
	}
	select {
	case l.appended <- struct{}{}:
	default:
	}
}
