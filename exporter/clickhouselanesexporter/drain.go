package clickhouselanesexporter

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
)

// readChunk is how many payload bytes the drain reads from the log at a time.
const readChunk = 1 << 20

// readBufs hold the drain's reads of the log (about readChunk each): the drain appends each
// payload to its blocks and drops it, so one buffer per lane reading at the time is reused.
var readBufs = sync.Pool{New: func() any { return new(wal.ReadBuffer) }}

// tagsChunk is how many records the drain sizes from the log's memory at a time.
const tagsChunk = 256

// A streamed insert sends a block when it holds this many rows or record bytes (the size of
// the block's columns): one block's columns, encoded copy and compressed copy are what an
// insert holds, whatever the batch's size. (Variables for tests.)
var (
	streamBlockRows  = 8192
	streamBlockBytes = 8 << 20
)

// logBatch is a batch of the log: records first..last, of which recs are the ones to insert
// (the others were skipped as damaged). Nothing of their payloads is held: the insert reads
// them again, one block at a time.
type logBatch struct {
	first, last walIndex
	recs        []logRecord
	rows, bytes int
	replayed    int  // rows of records that were in the log when it was opened
	full        bool // stopped at flush_rows or the byte cap: more is waiting
	// undecodable: records that counted but did not decode, reported once per batch.
	undecodable map[walIndex]bool
}

// logRecord is what the batch keeps of one record.
type logRecord struct {
	index       walIndex
	rows, bytes int
}

// drain is the worker of an on_wal lane. It inserts the log's records in batches, in order,
// and moves the durable cursor only after ClickHouse committed (or rejected for good) a
// batch. Before each insert it saves the batch's bounds as pending, so after a crash the
// same records are sent first under the same deduplication tokens (named by the log's id
// and the records' indexes, see chinsert.LogToken), and a batch that had committed just
// before the crash is not written twice.
func (l *lane[T]) drain(ctx context.Context) {
	defer l.e.workers.Done()
	st := l.recovery.State
	next := st.Committed + 1
	if st.PendingFirst != 0 {
		b, ok := l.readPending(ctx, st.PendingFirst, st.PendingLast)
		if !ok || !l.insertBatch(ctx, b) {
			return
		}
		next = st.PendingLast + 1
	}
	backlog := l.recovery.Records > 0
	for {
		if !l.waitForBatch(ctx, next, backlog) {
			return
		}
		b, _ := l.read(next, 0) // after a read error, the records read before it
		if b.last < next {      // nothing readable (a read error was logged): try again later
			backlog = false
			if !l.pause(ctx, l.e.cfg.Lanes.FlushInterval) {
				return
			}
			continue
		}
		l.unsent.Add(-int64(b.rows))
		if l.unsent.Load() < 0 {
			l.unsent.Store(0) // a hint only; replayed rows were never counted
		}
		if !l.savePending(ctx, b) || !l.insertBatch(ctx, b) {
			return
		}
		next = b.last + 1
		backlog = b.full
	}
}

// waitForBatch waits until a batch is due from next on: flush_rows rows appended, the oldest
// unsent record older than flush_interval, a backlog (the last batch was full, or the log
// held records at start), or the lane closing (then it drains without waiting, and returns
// false once nothing is left). False also when ctx ends.
func (l *lane[T]) waitForBatch(ctx context.Context, next walIndex, backlog bool) bool {
	lc := l.e.cfg.Lanes
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		st := l.log.Stats()
		closing := isClosed(l.closing)
		if st.LastIndex >= next {
			if backlog || closing || l.unsent.Load() >= int64(lc.FlushRows) {
				return true
			}
			wait := lc.FlushInterval
			if !st.FirstUnsent.IsZero() {
				wait -= time.Since(st.FirstUnsent)
			}
			if wait <= 0 {
				return true
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
		} else if closing {
			return false
		}
		var expired <-chan time.Time
		if timer != nil {
			expired = timer.C
		}
		select {
		case <-l.appended:
		case <-expired:
		case <-l.closing:
		case <-ctx.Done():
			return false
		}
	}
}

// readPending reads the pending batch first..last whole, retrying a failed read (a file that
// cannot be opened now, say): committing a pending batch read only in part would move the
// cursor past records never inserted. False when ctx ends first.
func (l *lane[T]) readPending(ctx context.Context, first, last walIndex) (*logBatch, bool) {
	backoff := l.e.cfg.Retry.InitialInterval
	for {
		b, err := l.read(first, last)
		if err == nil {
			b.last = last // its bounds as saved, even if its last records are found damaged now
			return b, true
		}
		if !sleepCtx(ctx, backoff) {
			return nil, false
		}
		backoff = min(2*backoff, l.e.cfg.Retry.MaxInterval)
	}
}

// pause waits d, or until the lane closes (then the worker drains without waiting) or ctx
// ends; false when ctx ended.
func (l *lane[T]) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.closing:
	case <-ctx.Done():
		return false
	}
	return true
}

// read names the batch from first on: up to last if last > 0 (a pending batch, exactly as
// it was), else until flush_rows rows or lanes::max_queue_bytes bytes. Records this process
// appended are sized from what the log remembers of them (sizeFromTags), others by reading
// them: it counts each record's rows without decoding it; a record that cannot be counted
// is damaged and skipped. After a read error (logged) it returns the records read before
// it, and the error.
func (l *lane[T]) read(first, last walIndex) (*logBatch, error) {
	lc := l.e.cfg.Lanes
	b := &logBatch{first: first, last: first - 1, undecodable: map[walIndex]bool{}}
	if last == 0 {
		// The last index is taken before the log's memory: a record appended in between goes
		// to the next batch, sized from memory then, instead of being read here only to size
		// this one.
		known := l.log.Stats().LastIndex
		if l.sizeFromTags(b) || known <= b.last {
			return b, nil
		}
	}
	buf := readBufs.Get().(*wal.ReadBuffer)
	defer readBufs.Put(buf)
	for from := b.last + 1; ; {
		recs, err := l.log.ReadInto(buf, from, readChunk)
		l.reportDamage()
		if err != nil {
			l.e.logger.Error("Write-ahead log read failed", zap.String("lane", l.label), zap.Error(err))
			return b, err
		}
		if len(recs) == 0 {
			return b, nil
		}
		for _, r := range recs {
			if last > 0 && r.Index > last {
				return b, nil
			}
			if last == 0 && b.fullBefore(len(r.Payload), &lc) {
				b.full = true
				return b, nil
			}
			rows, err := l.e.records.rows(r.Payload)
			if errors.Is(err, chcol.ErrRecordLayout) {
				// Not damage: another version's columns. Skipping would lose acknowledged
				// rows, so the lane stops before it until a version that reads it runs.
				l.holdAt(r.Index, err)
				b.full = false
				return b, err
			}
			b.last = r.Index
			if err != nil {
				l.skipDamaged(r.Index, err)
				continue
			}
			b.add(logRecord{index: r.Index, rows: rows, bytes: len(r.Payload)})
			if r.Index <= l.replayTo {
				b.replayed += rows
			}
		}
		from = recs[len(recs)-1].Index + 1
		if last > 0 && from > last {
			return b, nil
		}
	}
}

// sizeFromTags adds to b the records from b.last+1 on that this process appended, without
// reading them: their rows are the tags the appends gave them, and every one is of this
// version's columns. It reports whether b is full. A record damaged on disk since its
// append is found when the insert reads it (recordReader), counted and skipped then.
func (l *lane[T]) sizeFromTags(b *logBatch) bool {
	lc := l.e.cfg.Lanes
	for {
		l.tags = l.log.Tags(l.tags[:0], b.last+1, tagsChunk)
		if len(l.tags) == 0 {
			return false
		}
		for _, t := range l.tags {
			if b.fullBefore(t.Bytes, &lc) {
				b.full = true
				return true
			}
			b.last = t.Index
			b.add(logRecord{index: t.Index, rows: int(t.Tag), bytes: t.Bytes})
		}
	}
}

// fullBefore reports whether b, holding a record, is full before a record of n bytes.
func (b *logBatch) fullBefore(n int, lc *LanesConfig) bool {
	return len(b.recs) > 0 && (b.rows >= lc.FlushRows || b.bytes+n > lc.MaxQueueBytes)
}

func (b *logBatch) add(r logRecord) {
	b.recs = append(b.recs, r)
	b.rows += r.rows
	b.bytes += r.bytes
}

// reportDamage counts the damaged records the log found since the last report.
func (l *lane[T]) reportDamage() {
	if d := l.log.Stats().Damaged; d > l.damagedSeen {
		l.e.tel.damaged(l, d-l.damagedSeen)
		l.damagedSeen = d
	}
}

// holdAt logs, once per record, that the lane's drain stops at record i.
func (l *lane[T]) holdAt(i walIndex, err error) {
	if l.heldAt == i {
		return
	}
	l.heldAt = i
	l.e.logger.Error("The write-ahead log holds a record written by an exporter version with other columns; the lane stops inserting before it (its rows are kept, its lag grows) until a version that reads it drains the log",
		zap.String("lane", l.label), zap.String("signal", l.e.sig.name), zap.Uint64("index", uint64(i)), zap.Error(err))
}

func (l *lane[T]) skipDamaged(i walIndex, err error) {
	l.e.tel.damaged(l, 1)
	l.e.logger.Error("Skipping a write-ahead log record that does not decode",
		zap.String("lane", l.label), zap.Uint64("index", uint64(i)), zap.Error(err))
}

// source makes each insert attempt read records first..last again from the log. A
// single-table signal streams them (blocks of streamBlockRows/streamBlockBytes) under a
// token named by the log's id and first and last; metrics (five tables, which one
// connection cannot stream at once) fill the whole range and keep their content-hash tokens.
func (l *lane[T]) source(ctx context.Context, b *logBatch, first, last walIndex) func() blockSource {
	var token func(string) string
	if l.e.sig.singleTable {
		id := l.log.ID()
		token = func(table string) string { return chinsert.LogToken(id, uint64(first), uint64(last), table) }
	}
	return func() blockSource {
		r := &recordReader[T]{ctx: ctx, l: l, b: b, next: first, last: last, chunked: token != nil}
		return blockSource{fill: r.fill, token: token, done: r.done}
	}
}

// recordReader reads records next..last from the log and appends them to an insert's blocks.
//
// The block's records hold their bytes of lanes::memory_budget while it is filled and sent
// (so many lanes' blocks share the budget with the records being appended): a block
// ends early when the budget has no room for its next record, and one with no record yet
// waits for room (others' blocks and appends release theirs within one insert). Unchunked
// (metrics) the whole batch is one fill and holds its bytes until the attempt is over.
type recordReader[T any] struct {
	ctx        context.Context
	l          *lane[T]
	b          *logBatch
	next, last walIndex
	buf        *wal.ReadBuffer // holds read, from readBufs
	read       []walRecord     // read from the log, not yet appended
	chunked    bool            // stop at a block's worth
	reserved   int64           // of lanes::memory_budget, for the block being filled or sent
}

// done ends the insert attempt: the last block's share of the budget and the read buffer go
// back, and the damage the reads found is counted.
func (r *recordReader[T]) done() {
	r.release()
	if r.buf != nil {
		r.read = nil
		readBufs.Put(r.buf)
		r.buf = nil
	}
	r.l.reportDamage()
}

// release gives back the block's share of the budget.
func (r *recordReader[T]) release() {
	r.l.e.budget.Release(r.reserved)
	r.reserved = 0
}

// reserve takes n bytes of the budget for the next record, or reports false: the block is
// full. With must (the block is empty, or is the whole batch: metrics) it waits for room,
// but only while it holds nothing: a metrics batch that already holds part of the budget
// takes the rest uncounted instead of waiting, since two such batches waiting for each
// other would never move (the batch is bounded by flush_rows and max_queue_bytes). It
// also takes a record uncounted if it can never fit (a budget smaller than when it was
// appended; a metrics batch larger than the budget).
func (r *recordReader[T]) reserve(n int64, must bool) (bool, error) {
	budget := r.l.e.budget
	if n > budget.Limit()-r.reserved {
		return must, nil
	}
	for !budget.TryReserve(n) {
		if !must {
			return false, nil
		}
		if r.reserved > 0 {
			return true, nil // uncounted: never hold and wait
		}
		if !sleepCtx(r.ctx, time.Millisecond) {
			return false, r.ctx.Err()
		}
	}
	r.reserved += n
	return true, nil
}

// readSize is how many payload bytes the next read asks for: a chunk, but no more than the
// range's records left to read, so the records after the range (the next batch's) are not
// read here only to be dropped, and are read once, by their own insert.
func (r *recordReader[T]) readSize() int {
	left := 0
	for _, rec := range r.b.recs {
		if rec.index >= r.next && rec.index <= r.last {
			left += rec.bytes
		}
	}
	return max(1, min(readChunk, left)) // the log returns at least one record
}

func (r *recordReader[T]) fill(tables []*tableWriter) (more bool, err error) {
	r.release() // the previous block is sent
	rows, bytes, blocks := 0, 0, blocksOf(tables)
	for {
		if len(r.read) == 0 {
			if r.next > r.last {
				return false, nil
			}
			if r.buf == nil {
				r.buf = readBufs.Get().(*wal.ReadBuffer)
			}
			// Only once every record read before is appended: the buffer is reused.
			if r.read, err = r.l.log.ReadInto(r.buf, r.next, r.readSize()); err != nil {
				return false, err
			}
			if len(r.read) == 0 {
				return false, nil // the rest was found damaged (and counted)
			}
		}
		rec := r.read[0]
		if rec.Index > r.last {
			r.read, r.next = nil, r.last+1
			return false, nil
		}
		if r.chunked && rows > 0 && (rows >= streamBlockRows || bytes >= streamBlockBytes) {
			return true, nil
		}
		if ok, err := r.reserve(int64(len(rec.Payload)), rows == 0 || !r.chunked); err != nil {
			return false, err
		} else if !ok {
			return true, nil
		}
		r.read, r.next = r.read[1:], rec.Index+1
		n, err := r.l.e.records.appendTo(blocks, rec.Payload)
		if err != nil {
			if !r.b.undecodable[rec.Index] {
				r.b.undecodable[rec.Index] = true
				r.l.skipDamaged(rec.Index, err)
			}
			continue
		}
		rows += n
		bytes += len(rec.Payload)
	}
}

// savePending records the batch's bounds before its insert. Without it a crash could make
// the next start rebuild a different batch from the same records (another token) after
// this one committed: a duplicate. So it is retried until it succeeds or ctx ends.
func (l *lane[T]) savePending(ctx context.Context, b *logBatch) bool {
	s := walState{Committed: b.first - 1, PendingFirst: b.first, PendingLast: b.last}
	backoff := l.e.cfg.Retry.InitialInterval
	for {
		err := l.log.SaveState(s)
		if err == nil {
			return true
		}
		l.e.logger.Error("Cannot save the write-ahead log's pending batch; retrying before inserting it",
			zap.String("lane", l.label), zap.Error(err))
		if !sleepCtx(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, l.e.cfg.Retry.MaxInterval)
	}
}

// insertBatch inserts b behind the breaker, retrying transient failures until it is written
// or ctx ends (the log is the buffer), then moves the cursor past it. Rows ClickHouse
// rejects for good are counted as dropped (telemetry) and skipped. It reports false when ctx
// ended first: the batch stays pending, and the next start resends it.
func (l *lane[T]) insertBatch(ctx context.Context, b *logBatch) bool {
	if len(b.recs) > 0 {
		l.busy.Store(true)
		ok := l.writeLogBatch(ctx, b, b.first, b.last, b.recs)
		l.busy.Store(false)
		if !ok {
			return false
		}
		l.e.tel.replayed(l, b.replayed)
	}
	if h := l.e.hooks.beforeCommit; h != nil && !h(l.label) {
		return false // a test's simulated crash: committed in ClickHouse, not in the log
	}
	if err := l.log.SaveState(walState{Committed: b.last}); err != nil {
		// The pending bounds on disk still name this batch: a restart would resend it, and
		// its tokens make ClickHouse drop it. The next save moves the cursor anyway.
		l.e.logger.Error("Cannot save the write-ahead log's cursor after a committed batch",
			zap.String("lane", l.label), zap.Error(err))
	}
	return true
}

// writeLogBatch inserts recs of b, the records it knows of in first..last; a batch of a
// single-table signal that ClickHouse rejects for its data is split in halves of its index
// range (halves) until the bad requests are alone (as isolate does with a queue's batch),
// each half under its own token, and only they are dropped. Transient failures are retried
// until ctx ends; false then: the batch stays pending and is resent whole, and split again
// the same way (its committed halves deduplicated).
//
// The whole batch is named by its bounds, as saved pending, not by its first and last
// record in recs: a batch sized from the log's memory counts a record damaged on disk that
// the resend, sized by reading, leaves out, and the resend must go under the same token.
func (l *lane[T]) writeLogBatch(ctx context.Context, b *logBatch, first, last walIndex, recs []logRecord) bool {
	isolatable := len(recs) > 1 && l.e.sig.singleTable
	report := l.reportInsert
	if isolatable {
		report = l.reportUnlessRejected
	}
	err := l.insertFrom(ctx, nil, recordBytes(recs), l.source(ctx, b, first, last), report)
	switch {
	case err == nil:
		return true
	case ctx.Err() != nil:
		return false
	case !isolatable:
		return true // rejected for good: counted as dropped by record
	}
	for _, half := range halves(first, last, recs) {
		if len(half.recs) == 0 {
			continue // every record of it was found damaged: nothing to insert
		}
		l.e.tel.isolationInsert(l)
		if !l.writeLogBatch(ctx, b, half.first, half.last, half.recs) {
			return false
		}
	}
	return true
}

// logRange is records first..last of the log, and recs, those of them known readable.
type logRange struct {
	first, last walIndex
	recs        []logRecord
}

// halves splits first..last (of which recs, in order, are the records known readable, at
// least two) into two ranges of indexes, not of records: a resend after a restart must cut
// the same halves under the same tokens, and it may know of one damaged record more or
// less than the first attempt did (a batch sized from the log's memory does not know of
// damage; one sized by reading does).
func halves(first, last walIndex, recs []logRecord) [2]logRange {
	mid := first + (last-first+1)/2
	k := 0
	for k < len(recs) && recs[k].index < mid {
		k++
	}
	return [2]logRange{{first, mid - 1, recs[:k]}, {mid, last, recs[k:]}}
}

func recordBytes(recs []logRecord) int {
	n := 0
	for _, r := range recs {
		n += r.bytes
	}
	return n
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
