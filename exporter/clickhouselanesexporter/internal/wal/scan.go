package wal

import (
	"errors"
	"hash/crc32"
	"io"
)

// scanner walks the records of one segment file in order, verifying each
// checksum. Bytes that do not form a valid record are skipped: the scanner
// searches forward for the next valid record whose index is greater than the
// last good one, so one damaged record does not hide the rest of the segment.
type scanner struct {
	r     io.ReaderAt
	end   int64 // bytes of the file that may be read
	off   int64 // where the next record is expected
	after Index // the next record's index must be greater than this
	// payloads: return each record's payload (Read, and recovery with
	// Options.OnRecover); otherwise recovery only verifies them.
	payloads bool
	// into, if set, returns where to read a payload of n bytes; else buf.
	into func(n int) []byte

	hdr    [headerSize]byte
	buf    []byte // payload of the last record returned, or a verify window; reused
	window []byte // for search
}

// scanned is one valid record found by the scanner.
type scanned struct {
	h       header
	off     int64  // where the record starts
	payload []byte // if scanner.payloads; valid until the next call of next
	// damagedFrom is where skipped bytes before this record start, or -1.
	damagedFrom int64
}

// searchWindow is how much the scanner reads at once while searching for
// the next valid record after damage.
const searchWindow = 64 << 10

// next returns the next valid record, or io.EOF when there is none before
// end. After io.EOF, s.off is the end of the last valid record: any bytes
// between s.off and s.end are damage with no valid record after them.
func (s *scanner) next() (scanned, error) {
	rec, ok, err := s.tryAt(s.off)
	if err != nil || ok {
		rec.damagedFrom = -1
		return rec, err
	}
	rec, ok, err = s.search(s.off + 1)
	if err != nil {
		return rec, err
	}
	if !ok {
		return scanned{}, io.EOF
	}
	rec.damagedFrom = s.off
	s.accept(rec)
	return rec, nil
}

// tryAt reads and verifies the record at off; on success it advances past it.
func (s *scanner) tryAt(off int64) (scanned, bool, error) {
	rec, ok, err := s.readAt(off)
	if ok {
		s.accept(rec)
	}
	return rec, ok, err
}

func (s *scanner) accept(rec scanned) {
	s.off = rec.off + recordSize(int(rec.h.length))
	s.after = rec.h.index
}

// readAt reads and verifies the record at off without advancing.
func (s *scanner) readAt(off int64) (scanned, bool, error) {
	if off+headerSize > s.end {
		return scanned{}, false, nil
	}
	if ok, err := readFull(s.r, s.hdr[:], off); !ok {
		return scanned{}, false, err
	}
	h := parseHeader(s.hdr[:])
	if !h.plausible(s.after) || off+recordSize(int(h.length)) > s.end {
		return scanned{}, false, nil
	}
	if !s.payloads || h.length > directReadLimit {
		// A damaged length can claim most of the segment: check it
		// through a small buffer before holding that much.
		if ok, err := s.verifyThroughWindow(h, off); !ok {
			return scanned{}, false, err
		}
		if !s.payloads {
			return scanned{h: h, off: off}, true, nil
		}
	}
	p := s.payloadBuf(int(h.length))
	if ok, err := readFull(s.r, p, off+headerSize); !ok {
		return scanned{}, false, err
	}
	if !h.verify(s.hdr[:], p) {
		return scanned{}, false, nil
	}
	return scanned{h: h, off: off, payload: p}, true, nil
}

// payloadBuf returns n bytes to read a payload into.
func (s *scanner) payloadBuf(n int) []byte {
	if s.into != nil {
		return s.into(n)
	}
	return s.grow(n)
}

// grow returns s.buf resized to n bytes.
func (s *scanner) grow(n int) []byte {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	return s.buf
}

// directReadLimit is the largest payload read whole before its checksum
// is known to match.
const directReadLimit = 1 << 20

// verifyThroughWindow checks the payload of the record at off against its
// header, reading it through a window of searchWindow bytes.
func (s *scanner) verifyThroughWindow(h header, off int64) (bool, error) {
	window := s.grow(min(searchWindow, int(h.length)))
	crc := uint32(0)
	for done := int64(0); done < int64(h.length); {
		n := min(int64(len(window)), int64(h.length)-done)
		if ok, err := readFull(s.r, window[:n], off+headerSize+done); !ok {
			return false, err
		}
		crc = crc32.Update(crc, castagnoli, window[:n])
		done += n
	}
	return crc32.Update(crc, castagnoli, s.hdr[4:]) == h.crc, nil
}

// search looks for the first valid record starting at or after from. It
// reads the file in windows and checks the cheap header test at every byte
// before reading a candidate's payload.
func (s *scanner) search(from int64) (scanned, bool, error) {
	if s.window == nil {
		s.window = make([]byte, searchWindow)
	}
	window := s.window
	for base := from; base+headerSize <= s.end; {
		n := min(int64(len(window)), s.end-base)
		if ok, err := readFull(s.r, window[:n], base); !ok {
			return scanned{}, false, err
		}
		for i := int64(0); i+headerSize <= n; i++ {
			h := parseHeader(window[i : i+headerSize])
			if !h.plausible(s.after) || base+i+recordSize(int(h.length)) > s.end {
				continue
			}
			rec, ok, err := s.readAt(base + i)
			if err != nil || ok {
				return rec, ok, err
			}
		}
		// Windows overlap by headerSize-1 bytes so no header is split.
		base += n - headerSize + 1
	}
	return scanned{}, false, nil
}

// readFull fills b from off. A file shorter than the scanner was told (it
// was truncated under us) reads as "no record here", not as an error.
func readFull(r io.ReaderAt, b []byte, off int64) (bool, error) {
	if len(b) == 0 {
		return true, nil // an empty payload at the end of the file
	}
	_, err := r.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return err == nil, err
}
