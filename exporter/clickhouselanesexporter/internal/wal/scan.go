package wal

import (
	"errors"
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

	hdr [headerSize]byte
	buf []byte // payload of the last record returned; reused
}

// scanned is one valid record found by the scanner.
type scanned struct {
	h       header
	off     int64  // where the record starts
	payload []byte // valid until the next call of next
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
	s.off = rec.off + recordSize(len(rec.payload))
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
	if cap(s.buf) < int(h.length) {
		s.buf = make([]byte, h.length)
	}
	s.buf = s.buf[:h.length]
	if ok, err := readFull(s.r, s.buf, off+headerSize); !ok {
		return scanned{}, false, err
	}
	if !h.verify(s.hdr[:], s.buf) {
		return scanned{}, false, nil
	}
	return scanned{h: h, off: off, payload: s.buf}, true, nil
}

// search looks for the first valid record starting at or after from. It
// reads the file in windows and checks the cheap header test at every byte
// before reading a candidate's payload.
func (s *scanner) search(from int64) (scanned, bool, error) {
	window := make([]byte, searchWindow)
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
	_, err := r.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return err == nil, err
}
