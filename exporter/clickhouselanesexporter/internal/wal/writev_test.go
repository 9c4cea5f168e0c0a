package wal

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomBuffers returns n buffers of random sizes up to maxSize (some
// empty) and random bytes.
func randomBuffers(r *rand.Rand, n, maxSize int) [][]byte {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = randomBytes(r, r.IntN(maxSize+1))
	}
	return bufs
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPwritevAllWritesEverythingThroughShortWritesEINTRAndIOVMax(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bufs := randomBuffers(r, 3*iovMax+17, 300)
	want := bytes.Join(bufs, nil)

	var file []byte
	calls, mostBuffers := 0, 0
	shortWrites := func(fd int, bs [][]byte, off int64) (int, error) {
		require.Equal(t, 7, fd)
		require.Equal(t, int64(len(file)), off, "each call continues where the last ended")
		calls++
		mostBuffers = max(mostBuffers, len(bs))
		if calls%5 == 0 {
			return -1, syscall.EINTR
		}
		limit := 1 + r.IntN(5000) // often a cut mid-buffer
		n := 0
		for _, b := range bs {
			k := min(len(b), limit-n)
			file = append(file, b[:k]...)
			n += k
		}
		return n, nil
	}
	n, err := pwritevAll(shortWrites, 7, slices.Clone(bufs), 0)
	require.NoError(t, err)
	assert.Equal(t, len(want), n)
	assert.Equal(t, want, file)
	assert.LessOrEqual(t, mostBuffers, iovMax)
}

func TestPwritevAllReportsTheBytesWrittenBeforeAnError(t *testing.T) {
	bufs := [][]byte{make([]byte, 100), make([]byte, 100)}
	calls := 0
	n, err := pwritevAll(func(int, [][]byte, int64) (int, error) {
		calls++
		if calls == 1 {
			return 150, nil
		}
		return -1, syscall.ENOSPC
	}, 0, bufs, 0)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, 150, n)

	n, err = pwritevAll(func(int, [][]byte, int64) (int, error) { return 0, nil }, 0, [][]byte{make([]byte, 10)}, 0)
	assert.ErrorIs(t, err, io.ErrShortWrite, "a write of nothing does not spin")
	assert.Zero(t, n)
}

// A real pwritev of more buffers than one call takes, at an offset.
func TestOSFileWritevAtWritesMoreBuffersThanOneCallTakes(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	bufs := randomBuffers(rand.New(rand.NewPCG(3, 4)), 2*iovMax+100, 100)
	want := bytes.Join(bufs, nil)
	n, err := osFile{f}.WritevAt(bufs, 10)
	require.NoError(t, err)
	assert.Equal(t, len(want), n)
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, append(make([]byte, 10), want...), got)
}

// Several concurrent Appends of different sizes are written as one batch,
// with one vectored write, from the callers' slices: they read back
// byte-identical, the files hold exactly the framing appendRecord makes,
// a batch that does not fit rolls to a new segment, and a batch whose write
// fails (ENOSPC, or a short write) mid-batch leaves none of its records
// readable and the log usable.
func TestConcurrentAppendsOfDifferentSizesAreOneBatchAndReadBackIdentical(t *testing.T) {
	sizes := []int{0, 1, 7, headerSize, headerSize + 1, 1000, 4095, 4096, 20000, 70001}
	total := int64(0)
	for _, n := range sizes {
		total += recordSize(n)
	}
	for _, fault := range []struct {
		name    string
		err     error
		wantErr error
	}{
		{"ENOSPC", syscall.ENOSPC, ErrNoSpace},
		{"short write", nil, io.ErrShortWrite},
	} {
		t.Run(fault.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				var failWrite, failSync atomic.Bool
				budget := NewBudget(0)
				var mu sync.Mutex
				var synced []int
				var hold chan struct{} // when set, the next fsync waits for it to close
				o := Options{
					// room for two batches and two small records; see the rounds below
					SegmentBytes: 2*total + 2*recordSize(10),
					Budget:       budget,
					Now:          func() time.Time { return time.Unix(1800000000, 123) },
					OnSync: func(_ time.Duration, n int) {
						mu.Lock()
						synced = append(synced, n)
						h := hold
						hold = nil
						mu.Unlock()
						if h != nil {
							<-h
						}
					},
					wrapFile: func(f segmentFile) segmentFile {
						return faultyFile{segmentFile: f, failWrite: &failWrite, failSync: &failSync, writeErr: fault.err}
					},
				}
				l, _, err := Open(dir, o)
				require.NoError(t, err)
				r := rand.New(rand.NewPCG(5, 6))
				want := map[Index][]byte{}

				// batch runs one Append of every size while a leader waits in its
				// fsync, so all of them join the next batch, then lets it go, with
				// the next write failing if fail.
				batch := func(fail bool) (errs []error) {
					release := make(chan struct{})
					mu.Lock()
					hold = release
					mu.Unlock()
					var wg sync.WaitGroup
					wg.Go(func() {
						p := randomBytes(r, 10)
						i, err := l.Append(p)
						require.NoError(t, err)
						want[i] = p
					})
					synctest.Wait() // the leader is in its fsync
					payloads := make([][]byte, len(sizes))
					indexes := make([]Index, len(sizes))
					errs = make([]error, len(sizes))
					for k, n := range sizes {
						payloads[k] = randomBytes(r, n)
						wg.Go(func() { indexes[k], errs[k] = l.Append(payloads[k]) })
					}
					synctest.Wait() // every one of them waits for the next batch
					failWrite.Store(fail)
					close(release)
					wg.Wait()
					for k := range sizes {
						if errs[k] == nil {
							want[indexes[k]] = payloads[k]
						}
					}
					return errs
				}

				failed := func(where string) {
					for _, err := range batch(true) {
						require.ErrorIs(t, err, fault.wantErr, where)
					}
					assert.Equal(t, l.Stats().Bytes, budget.Used(), "the failed batch's bytes are released (%s)", where)
				}
				// In segment sizes, r = recordSize(10), T = total, S = 2T+2r:
				batch(false) // segment 1: r+T
				assert.Equal(t, []int{int(recordSize(10)), int(total)}, synced, "all sizes were one batch, one fsync")
				failed("in the active segment") // r, then the batch fails in segment 1
				batch(false)                    // r fits; the batch does not and rolls: segment 2 is T
				assert.Equal(t, int64(2), l.Stats().Segments)
				batch(false)               // segment 2: 2T+r
				failed("in a new segment") // r fills segment 2; the batch fails in segment 3
				batch(false)               // r rolls to segment 3, the batch follows it
				assert.Equal(t, int64(3), l.Stats().Segments)
				assert.Equal(t, int(total), synced[len(synced)-1])

				check := func(l *Log) {
					recs := readAll(t, l, 1)
					require.Len(t, recs, len(want))
					var files []byte
					for _, rec := range recs {
						require.True(t, bytes.Equal(want[rec.Index], rec.Payload), "record %d: %d bytes, %d read", rec.Index, len(want[rec.Index]), len(rec.Payload))
						files = appendRecord(files, rec.Index, rec.Time, rec.Payload, payloadChecksum(rec.Payload))
					}
					var onDisk []byte
					for _, name := range dirNames(t, dir) {
						if filepath.Ext(name) == segmentSuffix {
							b, err := os.ReadFile(filepath.Join(dir, name))
							require.NoError(t, err)
							onDisk = append(onDisk, b...)
						}
					}
					assert.Equal(t, files, onDisk, "the segments hold the records' framing and nothing else")
				}
				check(l)
				require.NoError(t, l.Close())

				l, rec, err := Open(dir, o)
				require.NoError(t, err)
				assert.Equal(t, Recovery{Records: len(want)}, rec, "no torn tail, no damage")
				check(l)
				require.NoError(t, l.Close())
			})
		})
	}
}
