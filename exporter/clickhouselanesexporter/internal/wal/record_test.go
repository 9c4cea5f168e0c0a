package wal

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordRoundTrip(t *testing.T) {
	at := time.Unix(1700000000, 42)
	p := []byte("some payload")
	b := appendRecord([]byte("prefix"), 7, at, p, payloadChecksum(p))
	h, got, size, ok := decodeRecord(b[6:], 6)
	require.True(t, ok)
	assert.Equal(t, len(b)-6, size)
	assert.Equal(t, Index(7), h.index)
	assert.Equal(t, at.UnixNano(), h.time)
	assert.Equal(t, p, got)

	_, _, _, ok = decodeRecord(b[6:], 7)
	assert.False(t, ok, "an index not after the previous one is damage")
	_, _, _, ok = decodeRecord(b[6:len(b)-1], 6)
	assert.False(t, ok, "a cut record")
	for i := 6; i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 1
		_, _, _, ok = decodeRecord(c[6:], 0)
		assert.False(t, ok, "a flipped bit at %d", i-6)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoder and the scanner
// (the recovery path): they must not panic, and whatever they accept must
// be a well-formed record with a greater index than the one before it.
// Its corpus is kept in testdata/fuzz/FuzzDecodeRecord.
func FuzzDecodeRecord(f *testing.F) {
	p := []byte("payload")
	one := appendRecord(nil, 1, time.Unix(1, 0), p, payloadChecksum(p))
	two := appendRecord(bytes.Clone(one), 2, time.Unix(2, 0), nil, payloadChecksum(nil))
	f.Add(one)
	f.Add(two)
	f.Add(append([]byte("garbage"), two...))
	f.Add(two[:len(two)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, payload, size, ok := decodeRecord(b, 0); ok {
			again := appendRecord(nil, h.index, time.Unix(0, h.time), payload, payloadChecksum(payload))
			require.Equal(t, b[:size], again)
		}
		sc := scanner{r: bytes.NewReader(b), end: int64(len(b)), payloads: true}
		verifyOnly := scanner{r: bytes.NewReader(b), end: int64(len(b))}
		var last Index
		for {
			rec, err := sc.next()
			same, err2 := verifyOnly.next()
			require.Equal(t, err, err2, "reading and recovering agree")
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.Equal(t, rec.h, same.h)
			require.Equal(t, rec.damagedFrom, same.damagedFrom)
			require.Greater(t, rec.h.index, last)
			last = rec.h.index
			end := rec.off + recordSize(len(rec.payload))
			require.LessOrEqual(t, end, int64(len(b)))
			require.Equal(t, b[rec.off:end], appendRecord(nil, rec.h.index, time.Unix(0, rec.h.time), rec.payload, payloadChecksum(rec.payload)))
		}
		require.Equal(t, sc.off, verifyOnly.off)
		require.LessOrEqual(t, sc.off, sc.end)
	})
}

func TestADamagedLengthDoesNotMakeTheScannerHoldWhatItClaims(t *testing.T) {
	p := payload(1, 100)
	b := appendRecord(nil, 1, time.Unix(1, 0), p, payloadChecksum(p))
	bogus := appendRecord(nil, 2, time.Unix(2, 0), nil, 0)
	bogus[6] = 0x30 // length ~3 MiB, the checksum no longer matches
	b = append(b, bogus...)
	b = append(b, make([]byte, 4<<20)...)
	b = appendRecord(b, 3, time.Unix(3, 0), p, payloadChecksum(p))

	sc := scanner{r: bytes.NewReader(b), end: int64(len(b)), payloads: true}
	var got []Index
	for {
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, rec.h.index)
	}
	assert.Equal(t, []Index{1, 3}, got)
	assert.LessOrEqual(t, cap(sc.buf), directReadLimit)
}
