package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// SaveState saves s durably and atomically (see stateFile), then deletes
// the segments whose records are all <= s.Committed and releases their
// bytes from the Budget. The committed cursor never moves back, and never
// past the last durable record.
func (l *Log) SaveState(s State) error {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if err := l.checkState(s); err != nil {
		return err
	}
	if err := l.stateFile.save(s); err != nil {
		return fmt.Errorf("save log state: %w", err)
	}

	l.mu.Lock()
	l.state = s
	l.tags.trim(s.Committed)
	dead := l.takeCommittedLocked()
	unsentLeft := l.lastIndex > s.Committed
	if !unsentLeft {
		l.firstUnsent = time.Time{} // the next Append sets it
	}
	l.mu.Unlock()

	var err error
	for _, seg := range dead {
		err = errors.Join(err, removeFile(seg.path))
	}
	if unsentLeft {
		l.updateFirstUnsent(s.Committed)
	}
	return err
}

func (l *Log) checkState(s State) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case s.Committed < l.state.Committed:
		return fmt.Errorf("save log state: committed cursor %d is before the saved %d", s.Committed, l.state.Committed)
	case s.Committed > l.lastIndex || s.PendingLast > l.lastIndex:
		return fmt.Errorf("save log state: cursor %+v is past the last record %d", s, l.lastIndex)
	case s.PendingFirst > s.PendingLast:
		return fmt.Errorf("save log state: pending batch %d..%d is reversed", s.PendingFirst, s.PendingLast)
	}
	return nil
}

// takeCommittedLocked removes from the log the leading segments whose
// records are all committed, releases their bytes, and returns them for the
// caller to delete. The active segment goes too unless a write to it is in
// progress; the next write then starts a new segment.
func (l *Log) takeCommittedLocked() []*segment {
	n := 0
	for _, s := range l.segments {
		if s.last > l.state.Committed || (s == l.active && l.flushing) {
			break
		}
		n++
	}
	dead := l.segments[:n:n]
	l.segments = l.segments[n:]
	for _, s := range dead {
		if s == l.active {
			_ = l.closeActive()
			l.active = nil
		}
		l.bytes -= s.size
		l.opts.Budget.release(s.size)
	}
	return dead
}

// updateFirstUnsent reads the time of the first record after committed.
func (l *Log) updateFirstUnsent(committed Index) {
	recs, err := l.Read(committed+1, 0)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && len(recs) > 0 && l.state.Committed == committed {
		l.firstUnsent = recs[0].Time
	}
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete segment: %w", err)
	}
	return nil
}
