package clickhouselanesexporter

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// A crash can cut off the answer to a request whose record is already in the lane's log: a
// record survives a process crash as soon as its write() returned (the page cache outlives
// the process), before its fsync finishes and long before its 200 leaves. The log replays
// it after the restart, and the client, never answered, resends it. OTLP exporters resend
// the same request, the receiver decodes the same bytes and the lane marshals the same pdata
// into the same record bytes, so the resend is recognisable: when a log is opened, the lane
// remembers the records appended in the last wal::resend_window before the crash, and for
// resend_window after the start an Append of one of them is acknowledged without writing
// it again, once per remembered record.
//
// Records are named by the first 128 bits of their SHA-256. A false match would acknowledge
// a request without writing it, so the key must not collide by chance: with n remembered
// records and m appends checked in the window the chance is about n·m/2^128 (10^-26 for a
// million of each). xxhash64 is 6-8x faster here but its n·m/2^64 is 10^-7 for the same
// numbers; SHA-256 costs ~13 µs per 20 KB record (1.4-1.6 GB/s, SHA-NI), paid only while the
// window lasts.

// resendKey names a record by its content.
type resendKey [16]byte

func resendKeyOf(rec []byte) resendKey {
	sum := sha256.Sum256(rec)
	return resendKey(sum[:16])
}

// resendMaxRecords bounds the records one lane remembers (the newest are kept): at ~40 bytes
// per entry, 10 MiB per lane. A crash leaves at most the clients' concurrency unanswered; the
// rest of the window is margin for slow answers.
const resendMaxRecords = 1 << 18

// resendSet is what a lane remembers of the records its log held at start. Safe for
// concurrent use; a nil set absorbs nothing.
type resendSet struct {
	active   atomic.Bool // until the window ends: appends are hashed only while it is set
	mu       sync.Mutex
	pending  map[resendKey]int32 // remembered records not resent yet, by content
	timer    *time.Timer
	summary  func(remembered, absorbed int) // called once, when the window ends or the log closes
	total    int
	absorbed int
}

// walRecent is a record appended shortly before the log was opened.
type walRecent struct {
	at  time.Time
	key resendKey
}

// recentRecords gathers the keys of every record on disk (committed ones too: a batch may
// have been inserted before the answer to one of its requests was lost) while the log's
// recovery scan hands them out (wal.Options.OnRecover), so the log is read once at start.
type recentRecords struct {
	recs []walRecent
}

// add is the log's OnRecover.
func (r *recentRecords) add(rec walRecord) {
	r.recs = append(r.recs, walRecent{at: rec.Time, key: resendKeyOf(rec.Payload)})
	if len(r.recs) >= 2*resendMaxRecords { // keep memory bounded while reading a backlog
		r.recs = append(r.recs[:0], r.recs[len(r.recs)-resendMaxRecords:]...)
	}
}

// within returns the records appended within window before the last one, at most
// resendMaxRecords of the newest.
func (r *recentRecords) within(window time.Duration) []walRecent {
	recent := r.recs
	if len(recent) == 0 {
		return nil
	}
	cutoff := recent[len(recent)-1].at.Add(-window)
	first := max(0, len(recent)-resendMaxRecords)
	for first < len(recent) && recent[first].at.Before(cutoff) {
		first++
	}
	return recent[first:]
}

// newResendSet remembers recent for window from now; summary is called once at its end.
// Nil when there is nothing to remember.
func newResendSet(recent []walRecent, window time.Duration, summary func(remembered, absorbed int)) *resendSet {
	if len(recent) == 0 || window <= 0 {
		return nil
	}
	s := &resendSet{pending: make(map[resendKey]int32, len(recent)), total: len(recent), summary: summary}
	for _, r := range recent {
		s.pending[r.key]++ // identical requests appended twice are two records, resent twice
	}
	s.active.Store(true)
	s.mu.Lock() // end may run before the assignment is visible otherwise
	s.timer = time.AfterFunc(window, s.end)
	s.mu.Unlock()
	return s
}

// absorb reports whether rec is the resend of a remembered record, and forgets that record.
func (s *resendSet) absorb(rec []byte) bool {
	if s == nil || !s.active.Load() {
		return false
	}
	key := resendKeyOf(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.pending[key]
	switch {
	case !ok:
		return false
	case n > 1:
		s.pending[key] = n - 1
	default:
		delete(s.pending, key)
	}
	s.absorbed++
	return true
}

// end frees the set and reports it; later calls do nothing. The log's close calls it too.
func (s *resendSet) end() {
	if s == nil || !s.active.Swap(false) {
		return
	}
	s.mu.Lock()
	s.timer.Stop()
	s.pending = nil
	total, absorbed := s.total, s.absorbed
	s.mu.Unlock()
	s.summary(total, absorbed)
}

// syncFiles fsyncs every file in dir (a lane's log: its segments and state).
func syncFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range entries {
		if !de.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, de.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = errors.Join(f.Sync(), f.Close())
		}
		if err != nil {
			return fmt.Errorf("sync the write-ahead log: %w", err)
		}
	}
	return nil
}
