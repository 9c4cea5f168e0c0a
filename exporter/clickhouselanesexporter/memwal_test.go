package clickhouselanesexporter

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memWAL is an in-memory stand-in for the write-ahead log engine with the contract's
// behaviour (durable across Close and Open of the same directory, budgets, the cursor), so
// the exporter's tests run before and independently of the engine.
type memWAL struct {
	mu     sync.Mutex
	disks  map[string]*memDisk
	locked map[string]bool
	// failAppend, when set, is returned by every Append (e.g. ENOSPC).
	failAppend atomic.Pointer[error]
}

type memDisk struct {
	records []walRecord // after Committed
	state   walState
	last    walIndex
	bytes   int64
}

type memBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *memBudget) Used() int64 { return b.used.Load() }

// useMemWAL makes the exporter use a fresh memWAL until the test ends.
func useMemWAL(t *testing.T) *memWAL {
	m := &memWAL{disks: map[string]*memDisk{}, locked: map[string]bool{}}
	old := engine
	engine = walEngine{
		lock: func(root string) (func() error, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.locked[root] {
				return nil, errors.New("log directory " + root + " is in use by another collector; give each collector its own `wal::directory`")
			}
			m.locked[root] = true
			return func() error { m.mu.Lock(); defer m.mu.Unlock(); delete(m.locked, root); return nil }, nil
		},
		newBudget: func(max int64) walBudget { return &memBudget{limit: max} },
		open: func(dir string, o walOptions) (walLog, walRecovery, error) {
			if err := os.MkdirAll(dir, 0o750); err != nil { // the exporter finds lanes by directory
				return nil, walRecovery{}, err
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			d := m.disks[dir]
			if d == nil {
				d = &memDisk{}
				m.disks[dir] = d
			}
			if b, ok := o.Budget.(*memBudget); ok {
				b.used.Add(d.bytes)
			}
			l := &memLog{m: m, d: d, o: o, appended: make(chan struct{})}
			return l, walRecovery{Records: len(d.records), State: d.state}, nil
		},
	}
	t.Cleanup(func() { engine = old })
	return m
}

type memLog struct {
	m        *memWAL
	d        *memDisk
	o        walOptions
	appended chan struct{}
	closed   bool
}

func (l *memLog) Append(p []byte) (walIndex, error) {
	if e := l.m.failAppend.Load(); e != nil {
		return 0, *e
	}
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.closed {
		return 0, errWALClosed
	}
	n := int64(len(p))
	b, _ := l.o.Budget.(*memBudget)
	if l.o.MaxBytes > 0 && l.d.bytes+n > l.o.MaxBytes || b != nil && b.used.Load()+n > b.limit {
		return 0, errWALFull
	}
	if b != nil {
		b.used.Add(n)
	}
	l.d.last++
	l.d.bytes += n
	l.d.records = append(l.d.records, walRecord{Index: l.d.last, Time: time.Now(), Payload: append([]byte(nil), p...)})
	if l.o.OnSync != nil {
		l.o.OnSync(time.Microsecond, len(p))
	}
	close(l.appended)
	l.appended = make(chan struct{})
	return l.d.last, nil
}

func (l *memLog) Read(from walIndex, maxBytes int) ([]walRecord, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	var out []walRecord
	size := 0
	for _, r := range l.d.records {
		if r.Index < from {
			continue
		}
		if len(out) > 0 && size+len(r.Payload) > maxBytes {
			break
		}
		out = append(out, r)
		size += len(r.Payload)
	}
	return out, nil
}

func (l *memLog) Appended() <-chan struct{} {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.appended
}

func (l *memLog) SaveState(s walState) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	l.d.state = s
	b, _ := l.o.Budget.(*memBudget)
	i := 0
	for ; i < len(l.d.records) && l.d.records[i].Index <= s.Committed; i++ {
		n := int64(len(l.d.records[i].Payload))
		l.d.bytes -= n
		if b != nil {
			b.used.Add(-n)
		}
	}
	l.d.records = l.d.records[i:]
	return nil
}

func (l *memLog) Stats() walStats {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	s := walStats{Bytes: l.d.bytes, LastIndex: l.d.last, Committed: l.d.state.Committed}
	if len(l.d.records) > 0 {
		s.Segments = 1
		for _, r := range l.d.records {
			if r.Index > s.Committed {
				s.FirstUnsent = r.Time
				break
			}
		}
	}
	return s
}

func (l *memLog) Close() error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	l.closed = true
	if b, ok := l.o.Budget.(*memBudget); ok {
		b.used.Add(-l.d.bytes)
	}
	return nil
}
