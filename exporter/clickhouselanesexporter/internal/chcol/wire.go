package chcol

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// strCol is a String column kept in its native wire format (uvarint length, then the bytes)
// from the moment a row is appended, so encoding the block is one copy of the whole buffer
// instead of a length computation and two appends per row.
type strCol struct {
	buf     []byte
	rows    int
	scratch []byte // formatting space for values whose length is known only afterwards
}

var _ proto.ColInput = (*strCol)(nil)

func (c *strCol) Append(s string) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(s)))
	c.buf = append(c.buf, s...)
	c.rows++
}

func (c *strCol) appendBytes(b []byte) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(b)))
	c.buf = append(c.buf, b...)
	c.rows++
}

// appendValue appends v formatted as appendValue does; strings, the common case, skip the
// scratch buffer.
func (c *strCol) appendValue(v pcommon.Value) {
	if v.Type() == pcommon.ValueTypeStr {
		c.Append(v.Str())
		return
	}
	c.scratch = appendValue(c.scratch[:0], v)
	c.appendBytes(c.scratch)
}

// appendTraceID appends the lowercase hex of id, or "" for the all-zero (invalid) id, as the
// contrib exporter does.
func (c *strCol) appendTraceID(id pcommon.TraceID) { c.appendHexID(id[:], id.IsEmpty()) }

// appendSpanID is appendTraceID for span ids.
func (c *strCol) appendSpanID(id pcommon.SpanID) { c.appendHexID(id[:], id.IsEmpty()) }

func (c *strCol) appendHexID(id []byte, empty bool) {
	if empty {
		c.buf = append(c.buf, 0)
	} else {
		c.buf = append(c.buf, byte(2*len(id))) // uvarint of 32 or 16 is one byte
		c.buf = hex.AppendEncode(c.buf, id)
	}
	c.rows++
}

func (c *strCol) Type() proto.ColumnType       { return proto.ColumnTypeString }
func (c *strCol) Rows() int                    { return c.rows }
func (c *strCol) EncodeColumn(b *proto.Buffer) { b.Buf = append(b.Buf, c.buf...) }
func (c *strCol) WriteColumn(w *proto.Writer)  { w.ChainBuffer(c.EncodeColumn) }
func (c *strCol) Reset()                       { c.buf, c.rows = c.buf[:0], 0 }

// arrCol is Array(T) over any input column: cumulative end offsets, then the elements.
type arrCol struct {
	offsets proto.ColUInt64
	data    proto.ColInput
}

func newArr(data proto.ColInput) *arrCol { return &arrCol{data: data} }

// closeRow ends a row after its elements were appended to data.
func (c *arrCol) closeRow() { c.offsets = append(c.offsets, uint64(c.data.Rows())) }

func (c *arrCol) Type() proto.ColumnType { return proto.ColumnTypeArray.Sub(c.data.Type()) }
func (c *arrCol) Rows() int              { return len(c.offsets) }
func (c *arrCol) EncodeColumn(b *proto.Buffer) {
	c.offsets.EncodeColumn(b)
	c.data.EncodeColumn(b)
}
func (c *arrCol) WriteColumn(w *proto.Writer) { w.ChainBuffer(c.EncodeColumn) }
func (c *arrCol) Reset() {
	c.offsets.Reset()
	c.data.(interface{ Reset() }).Reset()
}

// secondsCol is a DateTime column that travels as DateTime whatever the table's column is: the
// server converts it, also to the DateTime64(9) of tables made by contrib exporters before
// metric times became seconds. ch-go's own Infer would instead read the table's type as a
// DateTime time zone and fail on "DateTime64(9)" before sending anything.
type secondsCol struct{ proto.ColDateTime }

func (*secondsCol) Infer(proto.ColumnType) error { return nil }

// nanosCol is a DateTime64(9) column holding nanoseconds that travels as DateTime64(9) whatever
// the table's column is, for the server to convert. ch-go's own Infer would take the table's
// precision (a DateTime64(3) table) and send the nanoseconds as milliseconds.
type nanosCol struct{ proto.ColDateTime64 }

func (*nanosCol) Infer(proto.ColumnType) error { return nil }
