package wal

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// Record framing, little endian:
//
//	offset  size  field
//	0       4     CRC-32C of the payload followed by bytes 4..24 of this header
//	4       4     payload length
//	8       8     index
//	16      8     append time, Unix nanoseconds
//	24      n     payload
//
// The checksum covers the payload first so the caller's goroutine can checksum
// its payload before it takes the log's lock; only the 20 header bytes, which
// need the index, are checksummed under the lock.
const (
	headerSize = 24
	// maxPayload bounds the length field: a header claiming more is damage,
	// and an Append of more is refused with ErrTooLarge.
	maxPayload = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded fixed part of a record.
type header struct {
	crc    uint32
	length uint32
	index  Index
	time   int64
}

// recordSize is the number of bytes a payload of n bytes takes on disk.
func recordSize(n int) int64 { return headerSize + int64(n) }

// payloadChecksum is the first half of a record's checksum.
func payloadChecksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// appendRecord appends one framed record to dst. payloadCRC must be
// payloadChecksum(p).
func appendRecord(dst []byte, index Index, t time.Time, p []byte, payloadCRC uint32) []byte {
	return append(appendHeader(dst, index, t, len(p), payloadCRC), p...)
}

// appendHeader appends the header of a record whose payload has n bytes and
// checksum payloadCRC to dst: a record is its header followed by its
// payload, which the group commit writes from the caller's slice.
func appendHeader(dst []byte, index Index, t time.Time, n int, payloadCRC uint32) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	h := dst[start : start+headerSize]
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	binary.LittleEndian.PutUint64(h[8:], uint64(index))
	binary.LittleEndian.PutUint64(h[16:], uint64(t.UnixNano()))
	binary.LittleEndian.PutUint32(h[0:], crc32.Update(payloadCRC, castagnoli, h[4:]))
	return dst
}

// parseHeader decodes a header without checking it. b must hold headerSize bytes.
func parseHeader(b []byte) header {
	return header{
		crc:    binary.LittleEndian.Uint32(b[0:]),
		length: binary.LittleEndian.Uint32(b[4:]),
		index:  Index(binary.LittleEndian.Uint64(b[8:])),
		time:   int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

// plausible is the cheap test of a header before its payload is read: a
// length within bounds and an index after the previous record's.
func (h header) plausible(after Index) bool {
	return h.length <= maxPayload && h.index > after
}

// verify reports whether payload matches the header's checksum. hb is the
// raw header the header was parsed from.
func (h header) verify(hb, payload []byte) bool {
	return crc32.Update(payloadChecksum(payload), castagnoli, hb[4:headerSize]) == h.crc
}

// decodeRecord decodes the record at the start of b, returning its header,
// payload (aliasing b) and total size, or ok=false when b does not start with
// a whole, valid record whose index is greater than after.
func decodeRecord(b []byte, after Index) (h header, payload []byte, size int, ok bool) {
	if len(b) < headerSize {
		return header{}, nil, 0, false
	}
	h = parseHeader(b)
	if !h.plausible(after) || int64(len(b)) < recordSize(int(h.length)) {
		return header{}, nil, 0, false
	}
	payload = b[headerSize : headerSize+int(h.length)]
	if !h.verify(b, payload) {
		return header{}, nil, 0, false
	}
	return h, payload, headerSize + int(h.length), true
}
