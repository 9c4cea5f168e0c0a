package chcol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"sync"

	"github.com/ClickHouse/ch-go/proto"
)

// A record is the rows of one or more blocks (a signal's tables) in the native encoding an
// INSERT sends, so a write-ahead log holds converted rows: the caller's goroutine converts
// pdata once, and replaying the log appends bytes to a block with no pdata, no protobuf
// decoding and no per-value allocation.
//
//	record := layout (uint32, little endian) | rows of each block (uvarint) | columns
//	columns := for each block, for each column of its Input: the column's native encoding
//
// layout is a hash of recordVersion and the blocks' column names and wire types: a record
// written by a version of the exporter whose columns differ does not decode
// (ErrRecordLayout) instead of being misread.

// ErrRecordLayout reports a record written for other columns than the blocks'.
var ErrRecordLayout = errors.New("chcol: the record was written for other columns (another exporter version)")

var errRecordShort = errors.New("chcol: record ends early")

// recordVersion names the encoding itself: change it when the encoding of a column changes
// without its name or wire type changing.
const recordVersion = "chcol record 1\n"

// Layout is the layout hash of blocks, as AppendRecord writes it.
func Layout(blocks []Block) uint32 {
	h := fnv.New32a()
	h.Write([]byte(recordVersion))
	for _, b := range blocks {
		h.Write([]byte(layoutOf(b)))
	}
	return h.Sum32()
}

// layouts caches each block type's column list: its types build strings.
var layouts sync.Map // reflect.Type → string

func layoutOf(b Block) string {
	t := reflect.TypeOf(b)
	if s, ok := layouts.Load(t); ok {
		return s.(string)
	}
	s := "{" // the columns only: renaming a Go type must not orphan the records on disk
	for _, c := range b.Input() {
		s += c.Name + " " + string(c.Data.Type()) + ";"
	}
	s += "}"
	layouts.Store(t, s)
	return s
}

// AppendRecord appends a record of every row of blocks to dst.
func AppendRecord(dst []byte, layout uint32, blocks []Block) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, layout)
	for _, b := range blocks {
		dst = binary.AppendUvarint(dst, uint64(b.Rows()))
	}
	buf := proto.Buffer{Buf: dst}
	for _, b := range blocks {
		for _, c := range b.Input() {
			c.Data.EncodeColumn(&buf)
		}
	}
	return buf.Buf
}

// RecordRows returns the number of rows of a record of n blocks with the given layout,
// reading only its header.
func RecordRows(rec []byte, layout uint32, n int) (int, error) {
	_, rows, err := recordHeader(rec, layout, n, nil)
	return rows, err
}

// AppendFromRecord appends the rows of rec to blocks (the same blocks, in the same order,
// as were recorded) and returns how many. It checks the whole record before it appends
// anything, so a record that does not decode leaves the blocks as they were.
func AppendFromRecord(blocks []Block, layout uint32, rec []byte) (int, error) {
	var perBlock [8]int
	if len(blocks) > len(perBlock) {
		return 0, fmt.Errorf("chcol: %d blocks in one record, at most %d", len(blocks), len(perBlock))
	}
	cols, rows, err := recordHeader(rec, layout, len(blocks), perBlock[:len(blocks)])
	if err != nil {
		return 0, err
	}
	var ends [64]int
	r := recordReader{strEnds: ends[:0]}
	for _, apply := range []bool{false, true} {
		r.apply, r.next = apply, 0
		rest := cols
		for i, b := range blocks {
			for _, c := range b.Input() {
				if rest, err = r.column(c.Data, rest, perBlock[i]); err != nil {
					return 0, fmt.Errorf("chcol: record column %s: %w", c.Name, err)
				}
			}
		}
		if len(rest) != 0 {
			return 0, fmt.Errorf("chcol: %d bytes after the record's last column", len(rest))
		}
	}
	return rows, nil
}

// recordReader reads a record's columns twice: once to check them (apply false), then to
// append them. The check pass notes where each String column's bytes end, so the second
// pass copies them without reading their lengths again.
type recordReader struct {
	apply   bool
	strEnds []int // per String column read, in order
	next    int   // the String column the apply pass is at
}

// recordHeader checks rec's layout and reads its row counts (into perBlock when not nil); it
// returns the columns that follow and the total of rows.
func recordHeader(rec []byte, layout uint32, n int, perBlock []int) (cols []byte, rows int, err error) {
	if len(rec) < 4 {
		return nil, 0, errRecordShort
	}
	if binary.LittleEndian.Uint32(rec) != layout {
		return nil, 0, ErrRecordLayout
	}
	rec = rec[4:]
	for i := range n {
		r, k := binary.Uvarint(rec)
		if k <= 0 || r > uint64(len(rec)) { // every row takes at least a byte
			return nil, 0, errRecordShort
		}
		rec = rec[k:]
		if perBlock != nil {
			perBlock[i] = int(r)
		}
		rows += int(r)
	}
	return rec, rows, nil
}

// column reads rows rows of column c's native encoding from src and returns what
// follows; with apply it also appends them to c. Offsets of arrays and maps are rebased onto
// the rows c already holds. Every column type the blocks use has a case here (a test walks
// every block's columns).
func (r *recordReader) column(c proto.ColInput, src []byte, rows int) ([]byte, error) {
	apply := r.apply
	switch c := c.(type) {
	case *strCol:
		return r.str(c, src, rows)
	case *AttrMap:
		return r.attrMap(c, src, rows)
	case *arrCol:
		return r.array(c, src, rows)
	case *nanosCol:
		return appendFixed(&c.Data, src, rows, 8, apply, func(b []byte) proto.DateTime64 {
			return proto.DateTime64(binary.LittleEndian.Uint64(b))
		})
	case *secondsCol:
		return appendFixed(&c.Data, src, rows, 4, apply, dateTime)
	case *proto.ColDateTime:
		return appendFixed(&c.Data, src, rows, 4, apply, dateTime)
	case *proto.ColUInt64:
		return appendFixed((*[]uint64)(c), src, rows, 8, apply, binary.LittleEndian.Uint64)
	case *proto.ColUInt32:
		return appendFixed((*[]uint32)(c), src, rows, 4, apply, binary.LittleEndian.Uint32)
	case *proto.ColInt32:
		return appendFixed((*[]int32)(c), src, rows, 4, apply, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case *proto.ColUInt8:
		return appendFixed((*[]uint8)(c), src, rows, 1, apply, func(b []byte) uint8 { return b[0] })
	case *proto.ColBool:
		return appendFixed((*[]bool)(c), src, rows, 1, apply, func(b []byte) bool { return b[0] != 0 })
	case *proto.ColFloat64:
		return appendFixed((*[]float64)(c), src, rows, 8, apply, float64At)
	}
	return nil, fmt.Errorf("no record decoding for column type %T", c)
}

func float64At(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

func dateTime(b []byte) proto.DateTime { return proto.DateTime(binary.LittleEndian.Uint32(b)) }

func appendFixed[T any](dst *[]T, src []byte, rows, size int, apply bool, at func([]byte) T) ([]byte, error) {
	if rows > len(src)/size {
		return nil, errRecordShort
	}
	n := rows * size
	if apply {
		for i := 0; i < n; i += size {
			*dst = append(*dst, at(src[i:]))
		}
	}
	return src[n:], nil
}

func (r *recordReader) str(c *strCol, src []byte, rows int) ([]byte, error) {
	if r.apply {
		end := r.strEnds[r.next]
		r.next++
		c.buf = append(c.buf, src[:end]...)
		c.rows += rows
		return src[end:], nil
	}
	end := 0
	for range rows {
		var n uint64
		k := 1
		if end < len(src) && src[end] < 0x80 { // lengths below 128: one byte
			n = uint64(src[end])
		} else if n, k = binary.Uvarint(src[end:]); k <= 0 {
			return nil, errRecordShort
		}
		if n > uint64(len(src)-end-k) {
			return nil, errRecordShort
		}
		end += k + int(n)
	}
	r.strEnds = append(r.strEnds, end)
	return src[end:], nil
}

// readOffsets checks rows cumulative offsets at the start of src and returns the last (how
// many elements follow) and the rest.
func readOffsets(src []byte, rows int) (last int, rest []byte, err error) {
	if rows > len(src)/8 {
		return 0, nil, errRecordShort
	}
	var prev uint64
	for i := range rows {
		o := binary.LittleEndian.Uint64(src[8*i:])
		if o < prev || o > uint64(len(src)) { // every element takes at least a byte
			return 0, nil, errors.New("offsets out of order or beyond the record")
		}
		prev = o
	}
	return int(prev), src[8*rows:], nil
}

// appendOffsets appends rows offsets from src, each moved by base.
func appendOffsets(dst *proto.ColUInt64, src []byte, rows int, base uint64) {
	for i := range rows {
		*dst = append(*dst, base+binary.LittleEndian.Uint64(src[8*i:]))
	}
}

func (r *recordReader) attrMap(a *AttrMap, src []byte, rows int) ([]byte, error) {
	if rows == 0 { // EncodeColumn writes nothing for no rows
		return src, nil
	}
	entries, rest, err := readOffsets(src, rows)
	if err != nil {
		return nil, err
	}
	base := uint64(a.keys.rows)
	if rest, err = r.str(&a.keys, rest, entries); err != nil {
		return nil, err
	}
	if rest, err = r.str(&a.values, rest, entries); err != nil {
		return nil, err
	}
	if r.apply {
		appendOffsets(&a.offsets, src, rows, base)
	}
	return rest, nil
}

func (r *recordReader) array(c *arrCol, src []byte, rows int) ([]byte, error) {
	elems, rest, err := readOffsets(src, rows)
	if err != nil {
		return nil, err
	}
	base := uint64(c.data.Rows())
	if rest, err = r.column(c.data, rest, elems); err != nil {
		return nil, err
	}
	if r.apply {
		appendOffsets(&c.offsets, src, rows, base)
	}
	return rest, nil
}
