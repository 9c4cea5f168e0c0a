package wal

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The property: whatever sequence of appends, commits, clean reopens and
// crashes (a reopen without Close, with a torn record at the tail as if an
// Append were cut off, or an empty segment as if a crash followed a roll),
// every acknowledged record after the committed cursor is read back exactly
// once, with its payload, and indexes never repeat.

func TestRandomOperationsLoseNothingUncommittedAndRepeatNothing(t *testing.T) {
	for seed := range uint64(16) {
		r := rand.New(rand.NewPCG(seed, 7))
		ops := make([]byte, 250)
		for i := range ops {
			ops[i] = byte(r.UintN(256))
		}
		runOperations(t, ops)
	}
}

func FuzzLogOperations(f *testing.F) {
	f.Add([]byte{0, 10, 0, 200, 2, 1, 3, 0, 5, 4, 9, 0, 1, 2, 0})
	f.Add([]byte{0, 255, 0, 255, 0, 255, 4, 100, 0, 3, 2, 255, 3, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) { runOperations(t, ops) })
}

// logModel is what the log must hold: acknowledged records and the cursor.
type logModel struct {
	records   map[Index][]byte
	committed Index
	state     State
	lastIndex Index // highest index ever handed out
}

func runOperations(t *testing.T, ops []byte) {
	dir := t.TempDir()
	opts := func() Options {
		return Options{SegmentBytes: 2 << 10, Budget: NewBudget(0), Sync: SyncNever}
	}
	l, _, err := Open(dir, opts())
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	m := logModel{records: map[Index][]byte{}}
	next := func() byte {
		if len(ops) == 0 {
			return 0
		}
		b := ops[0]
		ops = ops[1:]
		return b
	}
	for len(ops) > 0 {
		switch next() % 6 {
		case 0, 1:
			p := payload(int(m.lastIndex), int(next())*7%1500)
			idx, err := l.Append(p)
			require.NoError(t, err)
			require.Greater(t, idx, m.lastIndex, "indexes never repeat")
			m.records[idx], m.lastIndex = p, idx
		case 2:
			m.commit(t, l, next())
		case 3:
			require.NoError(t, l.Close())
			l = m.reopen(t, dir, opts())
		case 4:
			_ = l.closeActive() // crash: no Close
			tearTail(t, dir, next())
			l = m.reopen(t, dir, opts())
		case 5:
			// A crash right after a roll (maybe after failed Appends burnt
			// some indexes): the new segment is empty.
			_ = l.closeActive()
			require.NoError(t, os.WriteFile(segmentPath(dir, l.nextIndex+Index(next()%3)), nil, 0o644))
			l = m.reopen(t, dir, opts())
		}
	}
	m.check(t, l)
}

// commit saves a cursor somewhere between the committed one and the last
// record, with the next few records pending.
func (m *logModel) commit(t *testing.T, l *Log, b byte) {
	last := l.Stats().LastIndex
	if last <= m.committed {
		return
	}
	c := m.committed + Index(b)%(last-m.committed+1)
	s := State{Committed: c}
	if c < last {
		s.PendingFirst, s.PendingLast = c+1, min(last, c+3)
	}
	require.NoError(t, l.SaveState(s))
	m.committed, m.state = c, s
	for idx := range m.records {
		if idx <= c {
			delete(m.records, idx)
		}
	}
}

func (m *logModel) reopen(t *testing.T, dir string, o Options) *Log {
	l, rec, err := Open(dir, o)
	require.NoError(t, err)
	assert.Equal(t, len(m.records), rec.Records)
	assert.Equal(t, m.state, rec.State)
	assert.Zero(t, rec.DamagedRecords)
	m.check(t, l)
	assert.Equal(t, o.Budget.Used(), segmentBytesOnDisk(t, dir), "the budget holds what is on disk")
	return l
}

// check reads everything and compares it with the model.
func (m *logModel) check(t *testing.T, l *Log) {
	t.Helper()
	recs := readAll(t, l, 1)
	seen := map[Index]bool{}
	var unsent int
	for i, r := range recs {
		require.False(t, seen[r.Index], "record %d returned twice", r.Index)
		seen[r.Index] = true
		if i > 0 {
			require.Greater(t, r.Index, recs[i-1].Index)
		}
		if r.Index > m.committed {
			require.True(t, bytes.Equal(m.records[r.Index], r.Payload), "record %d", r.Index)
			unsent++
		}
	}
	require.Equal(t, len(m.records), unsent, "every uncommitted record is there")
	require.Equal(t, m.committed, l.Stats().Committed)
}

// tearTail appends to the last segment the first bytes of a record, as a
// crash during an unacknowledged Append leaves it.
func tearTail(t *testing.T, dir string, b byte) {
	segs, err := listSegments(dir)
	require.NoError(t, err)
	if len(segs) == 0 {
		return
	}
	rec := appendRecord(nil, 1<<40, time.Now(), payload(0, 300), payloadChecksum(payload(0, 300)))
	f, err := os.OpenFile(segs[len(segs)-1].path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(rec[:1+int(b)%(len(rec)-1)])
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func segmentBytesOnDisk(t *testing.T, dir string) int64 {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	require.NoError(t, err)
	var n int64
	for _, p := range paths {
		info, err := os.Stat(p)
		require.NoError(t, err)
		n += info.Size()
	}
	return n
}
