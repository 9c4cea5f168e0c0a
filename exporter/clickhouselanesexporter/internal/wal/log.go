package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Index numbers records: 1, 2, 3 … in append order; 0 means "none".
// Indexes only increase, but a failed Append or a skipped damaged record
// leaves a gap, so never count records as last-first+1.
type Index uint64

// SyncPolicy says when appended records reach the disk.
type SyncPolicy int

const (
	// SyncAlways: every Append is durable when it returns; concurrent
	// Appends share one write and one fsync (group commit).
	SyncAlways SyncPolicy = iota
	// SyncNever skips every fsync (records, state, directory): for tests
	// and benchmarks only.
	SyncNever
)

// DefaultSegmentBytes is the segment size when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

// Options configure one log.
type Options struct {
	SegmentBytes int64            // roll to a new segment file past this size; 0 = DefaultSegmentBytes
	MaxBytes     int64            // this log's share of the Budget (per-lane cap); 0 = no own cap
	Budget       *Budget          // shared by all logs of one exporter; may be nil
	Sync         SyncPolicy       // SyncAlways unless testing
	Now          func() time.Time // for record times; nil = time.Now
	// OnSync, if set, is called after each fsync with its duration and the
	// bytes it made durable, from the goroutine that synced, without locks
	// held. It must be quick (record a histogram).
	OnSync func(d time.Duration, bytes int)
	// OnRecover, if set, is called by Open for every valid record it scans: every record
	// left on disk once the wholly committed segments are deleted, committed ones included,
	// in index order. The payload is valid only during the call. Open reads each record
	// once either way (to verify it); with OnRecover it hands the record out too, so a
	// caller that needs every record at start does not read the log a second time.
	OnRecover func(Record)

	// wrapFile, if set, wraps every segment file opened for appending
	// (tests inject failures with it).
	wrapFile func(segmentFile) segmentFile
}

func (o Options) wrap(f segmentFile) segmentFile {
	if o.wrapFile == nil {
		return f
	}
	return o.wrapFile(f)
}

// Recovery reports what Open found.
type Recovery struct {
	Records        int   // readable records after the committed cursor (to replay)
	TornTailBytes  int64 // truncated from the last segment
	DamagedRecords int   // skipped (bad checksum or length) before the tail
	State          State // the last saved State (zero if none)
	// StateDamaged: the state file failed its checksum and State is zero,
	// so every record still on disk will be replayed.
	StateDamaged bool
}

// Record is one record returned by Read.
type Record struct {
	Index   Index
	Time    time.Time // when it was appended
	Payload []byte
}

// Stats is a snapshot for self-telemetry.
type Stats struct {
	Bytes, Segments int64
	FirstUnsent     time.Time // append time of the oldest record > Committed (zero if none)
	LastIndex       Index     // last durable record
	Committed       Index
	Damaged         int64 // damaged records skipped so far (at Open and by Read)
}

// Log is one lane's append-only segmented log. Safe for concurrent use.
type Log struct {
	dir      string
	id       string // see ID
	opts     Options
	appended chan struct{}

	stateMu   sync.Mutex // serializes SaveState; taken before mu
	stateFile *stateFile

	mu          sync.Mutex
	cond        sync.Cond // on mu: a batch finished or flushing ended
	closed      bool
	flushing    bool         // a leader is writing a batch outside mu
	open        *batch       // records waiting for the next write
	spare       batchBuffers // the last written batch's slices, for reuse
	iov         [][]byte     // the leader's buffers to write; only the leader (flushing) uses it
	nextIndex   Index
	segments    []*segment // ordered; the last one is active if active != nil
	active      *segment   // segment appended to; nil until the next write creates one
	bytes       int64      // on disk plus reserved by waiting Appends
	lastIndex   Index      // last durable record
	state       State      // last saved
	firstUnsent time.Time
	damaged     int64
	knownDamage map[damageAt]struct{} // damage already counted, so Read counts it once
	hints       hints
	tags        tags // of the records appended since Open (tags.go)
}

// damageAt names a damaged spot: segment and offset.
type damageAt struct {
	segment Index
	off     int64
}

// Open opens or creates the log in dir, recovering after a crash: a torn
// tail is truncated, a damaged record before it is skipped; both are
// counted. Segments the saved state has committed are deleted. The bytes
// left are charged to o.Budget, even beyond its limit.
func Open(dir string, o Options) (*Log, Recovery, error) {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Recovery{}, fmt.Errorf("create log directory: %w", err)
	}
	id, err := loadID(dir, o.Sync)
	if err != nil {
		return nil, Recovery{}, err
	}
	l := &Log{
		dir:         dir,
		id:          id,
		opts:        o,
		appended:    make(chan struct{}, 1),
		open:        &batch{},
		knownDamage: map[damageAt]struct{}{},
	}
	l.cond.L = &l.mu
	rec, err := l.recover()
	if err != nil {
		_ = l.closeFiles()
		return nil, Recovery{}, err
	}
	return l, rec, nil
}

// Appended is signalled after each successful Append (a buffered channel of
// one with non-blocking sends), so one drain worker can wait for records
// without polling. After a receive, Read until it returns nothing.
func (l *Log) Appended() <-chan struct{} { return l.appended }

// Stats returns a snapshot.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var size int64
	for _, s := range l.segments {
		size += s.size
	}
	return Stats{
		Bytes:       size,
		Segments:    int64(len(l.segments)),
		FirstUnsent: l.firstUnsent,
		LastIndex:   l.lastIndex,
		Committed:   l.state.Committed,
		Damaged:     l.damaged,
	}
}

// Close waits for Appends in progress, closes the files and releases the
// log's bytes from the Budget (a later Open charges them again). Appends
// after Close fail with ErrClosed. Close is idempotent.
func (l *Log) Close() error {
	l.stateMu.Lock() // no SaveState in progress
	defer l.stateMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	for l.flushing || len(l.open.payloads) > 0 {
		if l.flushing {
			l.cond.Wait()
		} else {
			l.flushLocked()
		}
	}
	l.opts.Budget.release(l.bytes)
	l.bytes = 0
	return l.closeFiles()
}

func (l *Log) closeFiles() error {
	var err error
	if l.stateFile != nil {
		err = l.stateFile.close()
	}
	return errors.Join(err, l.closeActive())
}

func (l *Log) closeActive() error {
	if l.active == nil || l.active.file == nil {
		return nil
	}
	err := l.active.file.Close()
	l.active.file = nil
	return err
}
