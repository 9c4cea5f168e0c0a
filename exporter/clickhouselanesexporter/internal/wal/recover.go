package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// recover rebuilds the log's memory from dir: it reads the state, scans
// every segment the state has not committed (verifying every checksum),
// truncates a torn tail, and deletes segments already committed.
func (l *Log) recover() (Recovery, error) {
	var rec Recovery
	sf, state, err := openStateFile(l.dir, l.opts.Sync)
	if errors.Is(err, errStateDamaged) {
		rec.StateDamaged, err = true, nil
	}
	if err != nil {
		return rec, err
	}
	l.stateFile = sf
	rec.State, l.state = state, state
	segs, err := listSegments(l.dir)
	if err != nil {
		return rec, err
	}
	for i, s := range segs {
		last := i == len(segs)-1
		if !last && segs[i+1].first-1 <= state.Committed {
			// Wholly committed (its records end before the next segment
			// begins): deleted below without being read.
			s.last = segs[i+1].first - 1
			continue
		}
		if err := l.recoverSegment(s, last, &rec); err != nil {
			return rec, err
		}
	}
	l.segments = segs
	l.setIndexes()
	if err := l.openActive(); err != nil {
		return rec, err
	}
	for _, s := range l.segments {
		l.bytes += s.size
	}
	l.opts.Budget.charge(l.bytes)
	l.damaged = int64(rec.DamagedRecords)
	// A crash between saving the state and deleting what it committed
	// leaves such segments behind.
	for _, s := range l.takeCommittedLocked() {
		if err := removeFile(s.path); err != nil {
			l.opts.Budget.release(l.bytes)
			return rec, err
		}
	}
	return rec, nil
}

// setIndexes sets the last durable index and the next one to hand out from
// the recovered segments and state.
func (l *Log) setIndexes() {
	l.lastIndex = max(l.state.Committed, l.state.PendingLast)
	for _, s := range l.segments {
		if s.last >= s.first { // not empty
			l.lastIndex = max(l.lastIndex, s.last)
		}
	}
	l.nextIndex = l.lastIndex + 1
	if n := len(l.segments); n > 0 {
		// A segment is named after its first record, so the next index is
		// at least the last segment's name, even when a crash emptied it
		// (its records, and maybe failed Appends before them, were lost).
		l.nextIndex = max(l.nextIndex, l.segments[n-1].first)
	}
}

// recoverSegment scans one segment, counting its records after the
// committed cursor and its damage, and truncates the torn tail of the last
// segment.
func (l *Log) recoverSegment(s *segment, last bool, rec *Recovery) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	onRecover := l.opts.OnRecover
	sc := scanner{r: f, end: info.Size(), after: s.first - 1, payloads: onRecover != nil}
	for {
		r, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read segment %s: %w", s.path, err)
		}
		if r.damagedFrom >= 0 {
			rec.DamagedRecords += damagedCount(s.last, r.h.index)
			l.knownDamage[damageAt{s.first, r.damagedFrom}] = struct{}{}
		}
		s.last = r.h.index
		if onRecover != nil {
			onRecover(Record{Index: r.h.index, Time: time.Unix(0, r.h.time), Payload: r.payload})
		}
		if r.h.index > l.state.Committed {
			rec.Records++
			if l.firstUnsent.IsZero() {
				l.firstUnsent = time.Unix(0, r.h.time)
			}
		}
	}
	s.size = sc.end
	if sc.off == sc.end {
		return nil
	}
	if !last {
		// Damage at the end of an older segment: later records follow in
		// the next segment, so this is damage in the middle, not a tail.
		rec.DamagedRecords++
		l.knownDamage[damageAt{s.first, sc.off}] = struct{}{}
		return nil
	}
	rec.TornTailBytes += sc.end - sc.off
	s.size = sc.off
	return truncateFile(s.path, sc.off)
}

// damagedCount is how many records a damaged region between the record
// with index prev (the segment's first-1 when none) and the one with index
// next held: the gap between them, at least one.
func damagedCount(prev, next Index) int {
	return max(1, int(next-prev-1))
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open segment to truncate its torn tail: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(classify("truncate torn tail", err), f.Close())
}

// openActive opens the last segment for appending.
func (l *Log) openActive() error {
	if len(l.segments) == 0 {
		return nil
	}
	s := l.segments[len(l.segments)-1]
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment for appending: %w", err)
	}
	s.file, l.active = l.opts.wrap(osFile{f}), s
	return nil
}
