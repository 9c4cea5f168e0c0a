package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// With acknowledge on_wal a pipeline call appends each lane part to its lane's log and
// returns once the engine has fsynced it (concurrent callers share the fsync). The lane's
// worker (drain.go) inserts from the log; nobody waits for ClickHouse.

var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// appendPart writes p to its lane's log, or returns the refusal to answer with.
func (e *chExporter[T]) appendPart(p part[T]) error {
	l, err := e.laneFor(p.key)
	if err != nil {
		return err
	}
	if !e.beginAppend() {
		return errShuttingDown
	}
	defer e.appending.Done()
	return l.append(p)
}

// beginAppend registers an append unless shutdown began, so shutdown can wait for the
// appends in flight before it closes the logs.
func (e *chExporter[T]) beginAppend() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return false
	}
	e.appending.Add(1)
	return true
}

func (l *lane[T]) append(p part[T]) error {
	e := l.e
	bp := recordBufs.Get().(*[]byte)
	defer recordBufs.Put(bp)
	rec := e.records.encode((*bp)[:0], p.data)
	*bp = rec
	if l.resends.absorb(rec) { // already in the log: its answer was lost in a crash
		e.tel.tb.SluiceExporterWalResendsAbsorbed.Add(context.Background(), 1, e.tel.laneAttrs(l))
		l.used.Store(true)
		return nil
	}
	// The memory budget bounds records being written, as it bounds queued rows otherwise.
	n := int64(len(rec))
	if n > e.budget.Limit() { // a 429 would be retried forever: this can never fit
		e.tel.refused(l, reasonTooLarge, p.rows)
		return backpressure.Invalid(fmt.Sprintf("a request of %d rows and %d bytes is larger than the exporter's lanes::memory_budget (%d): send smaller requests or raise the budget",
			p.rows, n, e.budget.Limit()))
	}
	if !e.budget.TryReserve(n) {
		e.tel.refused(l, reasonBudget, p.rows)
		return l.refusals.budget
	}
	rows, _ := e.records.rows(rec) // what the drain would count reading it (never fails: it is ours)
	_, err := l.log.AppendTagged(rec, uint32(rows))
	e.budget.Release(n)
	switch {
	case err == nil:
		// Counted, then signalled: the worker reads the count after waking (the engine's
		// own Appended fires before the count is up, and the flush_rows check would miss).
		l.unsent.Add(int64(p.rows))
		select {
		case l.appended <- struct{}{}:
		default: // a signal is already pending
		}
		l.used.Store(true)
		if l.label == overflowLane {
			e.tel.overflow(p.rows)
		}
		return nil
	case errors.Is(err, wal.ErrFull):
		e.tel.refused(l, reasonWALFull, p.rows)
		return l.refusals.walFull
	case errors.Is(err, wal.ErrNoSpace):
		e.tel.refused(l, reasonDiskFull, p.rows)
		return l.refusals.diskFull
	case errors.Is(err, wal.ErrClosed):
		return errShuttingDown
	case errors.Is(err, wal.ErrTooLarge): // retrying the same request can never succeed
		e.tel.refused(l, reasonTooLarge, p.rows)
		return backpressure.Invalid(fmt.Sprintf("a request of %d rows and %d bytes does not fit in lane %q's write-ahead log (wal::max_lane_bytes %d, wal::max_bytes %d): send smaller requests or raise the limits",
			p.rows, len(rec), l.label, e.cfg.WAL.MaxLaneBytes, e.cfg.WAL.MaxBytes))
	default:
		e.logger.Error("Write-ahead log append failed", zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.Error(err))
		return backpressure.Unavailable(fmt.Sprintf("write-ahead log of lane %q failed: %v", l.label, err), e.cfg.Breaker.CoolDown)
	}
}

// walRoot is this signal's directory under wal::directory: one exporter per signal locks it.
func (e *chExporter[T]) walRoot() string { return filepath.Join(e.cfg.WAL.Directory, e.sig.name) }

// startWAL locks the signal's log directory and opens a lane for each log found there, so
// what was not committed before the last stop is inserted first.
func (e *chExporter[T]) startWAL() error {
	root := e.walRoot()
	if err := os.MkdirAll(root, 0o750); err != nil {
		return fmt.Errorf("wal::directory %q: %w", e.cfg.WAL.Directory, err)
	}
	unlock, err := wal.Lock(root)
	if err != nil {
		return err
	}
	e.walBudget, e.walRelease = holdWALBudget(e.id, e.cfg.WAL.MaxBytes)
	e.walUnlock = func() error { e.walRelease(); return unlock() }
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("wal::directory %q: %w", e.cfg.WAL.Directory, err)
	}
	for _, de := range entries {
		if de.IsDir() && strings.HasSuffix(de.Name(), removingSuffix) {
			_ = os.RemoveAll(filepath.Join(root, de.Name())) // a removal a crash interrupted
			continue
		}
		label, ok := laneFromDirName(de.Name())
		if !de.IsDir() || !ok {
			continue
		}
		// A lane with a log on disk gets its own lane again, whatever max_lanes says now:
		// folded into overflow, its acknowledged rows would never be read.
		if _, err := e.reopenLane(label); err != nil {
			return fmt.Errorf("reopen the write-ahead log of lane %q: %w", label, err)
		}
	}
	return nil
}

// openLog opens (or creates) the lane's log and remembers what its worker must replay.
func (l *lane[T]) openLog() error {
	e := l.e
	w := e.cfg.WAL
	dir := e.laneDir(l.label)
	sync := wal.SyncAlways
	if w.Sync == WALSyncNever {
		sync = wal.SyncNever
	}
	o := wal.Options{
		SegmentBytes: w.SegmentBytes, MaxBytes: w.MaxLaneBytes, Budget: e.walBudget, Sync: sync,
		OnSync: func(d time.Duration, _ int) { e.tel.synced(l, d) },
	}
	var recent recentRecords
	if w.ResendWindow > 0 {
		o.OnRecover = recent.add // the recovery scan reads every record anyway
	}
	log, rec, err := openLog(dir, o)
	if err != nil {
		return fmt.Errorf("open write-ahead log %s: %w", dir, err)
	}
	l.log, l.recovery = log, rec
	st := log.Stats()
	l.replayTo, l.damagedSeen = st.LastIndex, st.Damaged
	e.tel.recovered(l, rec)
	if rec.StateDamaged {
		e.logger.Warn("Write-ahead log cursor was damaged; every record still on disk is inserted again, and rows already committed will be written twice (their batches are rebuilt with other bounds, so other deduplication tokens)",
			zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.String("directory", dir))
	}
	if rec.TornTailBytes > 0 || rec.DamagedRecords > 0 {
		e.logger.Warn("Write-ahead log recovered from damage",
			zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.String("directory", dir),
			zap.Int64("torn_tail_bytes", rec.TornTailBytes), zap.Int("damaged_records", rec.DamagedRecords))
	}
	if rec.Records > 0 {
		e.logger.Info("Write-ahead log holds records not yet in ClickHouse; inserting them first",
			zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.Int("records", rec.Records))
	}
	l.rememberResends(dir, recent.within(w.ResendWindow))
	return nil
}

// rememberResends remembers recent, the records the log held at start, for
// wal::resend_window (resend.go). If they cannot be made durable first, resends are written
// again: duplicates, never a loss.
func (l *lane[T]) rememberResends(dir string, recent []walRecent) {
	e, window := l.e, l.e.cfg.WAL.ResendWindow
	if window <= 0 || len(recent) == 0 {
		return
	}
	var err error
	if e.cfg.WAL.Sync == WALSyncAlways {
		// A record the crash left in the page cache, unsynced, was never acknowledged; a
		// resend absorbed into it is, so it must be on disk first.
		err = syncFiles(dir)
	}
	if err != nil {
		e.logger.Warn("Cannot remember the write-ahead log's last records; a client's resend of one is written again",
			zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.Error(err))
		return
	}
	l.resends = newResendSet(recent, window, func(remembered, absorbed int) {
		e.logger.Info("Resend window ended: resends of records already in the write-ahead log were acknowledged without writing them again",
			zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.Duration("resend_window", window),
			zap.Int("remembered", remembered), zap.Int("absorbed", absorbed))
	})
}

func (e *chExporter[T]) laneDir(label string) string {
	return filepath.Join(e.walRoot(), laneDirName(label))
}

// removingSuffix marks a drained lane log being removed: the name no longer decodes to a
// lane, so a crash halfway through the removal leaves nothing to replay.
const removingSuffix = ".removing"

// removeDrainedLog removes a closed lane log whose records are all committed, so tenants that
// come and go do not leave a directory each to reopen at every start. It renames the
// directory first (atomic), then removes it.
func removeDrainedLog(dir string) error {
	gone := dir + removingSuffix
	if err := os.Rename(dir, gone); err != nil {
		return fmt.Errorf("remove drained write-ahead log %s: %w", dir, err)
	}
	return os.RemoveAll(gone)
}

// closeWAL closes every lane's log and unlocks the directory; the workers have stopped and no
// append is in flight.
func (e *chExporter[T]) closeWAL(lanes []*lane[T]) error {
	var errs []error
	for _, l := range lanes {
		if l.log == nil {
			continue
		}
		l.resends.end()
		st := l.log.Stats()
		if st.LastIndex > st.Committed {
			e.logger.Info("Rows left in the lane's write-ahead log are inserted at the next start",
				zap.String("lane", l.label), zap.String("signal", e.sig.name), zap.Int64("log_bytes", st.Bytes))
		}
		err := l.log.Close()
		errs = append(errs, err)
		if err == nil && st.LastIndex == st.Committed {
			errs = append(errs, removeDrainedLog(e.laneDir(l.label)))
		}
	}
	if e.walUnlock != nil {
		errs = append(errs, e.walUnlock())
	}
	return errors.Join(errs...)
}
