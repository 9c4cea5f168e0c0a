package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// AttrMap is a Map(LowCardinality(String), String) column filled straight from pcommon.Map.
// It is sent as Map(String, String), which the server casts on insert (see doc.go).
type AttrMap struct {
	offsets proto.ColUInt64
	keys    strCol
	values  strCol
	// where the last row's keys and values start, for AppendRepeat.
	lastKeys, lastValues int
}

var _ proto.ColInput = (*AttrMap)(nil)

// Append adds one row holding every attribute of m.
func (a *AttrMap) Append(m pcommon.Map) {
	a.lastKeys, a.lastValues = len(a.keys.buf), len(a.values.buf)
	for k, v := range m.All() {
		a.keys.Append(k)
		a.values.appendValue(v)
	}
	a.offsets = append(a.offsets, uint64(a.keys.rows))
}

// AppendRepeat adds a row equal to the previous one (there must be one). Every span of a
// resource carries the same resource attributes: copying the encoded bytes of the row before
// skips walking and formatting the pdata map again.
func (a *AttrMap) AppendRepeat() {
	n := len(a.offsets)
	entries := int(a.offsets[n-1])
	if n > 1 {
		entries -= int(a.offsets[n-2])
	}
	k, v := len(a.keys.buf), len(a.values.buf)
	a.keys.buf = append(a.keys.buf, a.keys.buf[a.lastKeys:k]...)
	a.values.buf = append(a.values.buf, a.values.buf[a.lastValues:v]...)
	a.keys.rows += entries
	a.values.rows += entries
	a.lastKeys, a.lastValues = k, v
	a.offsets = append(a.offsets, uint64(a.keys.rows))
}

// Type is the wire type; see the type's comment.
func (a *AttrMap) Type() proto.ColumnType {
	return proto.ColumnTypeMap.Sub(proto.ColumnTypeString, proto.ColumnTypeString)
}

// Rows is the number of maps.
func (a *AttrMap) Rows() int { return len(a.offsets) }

// EncodeColumn writes offsets, keys, values. Like ch-go's Map, nothing for zero rows.
func (a *AttrMap) EncodeColumn(b *proto.Buffer) {
	if len(a.offsets) == 0 {
		return
	}
	a.offsets.EncodeColumn(b)
	a.keys.EncodeColumn(b)
	a.values.EncodeColumn(b)
}

// WriteColumn implements proto.ColInput.
func (a *AttrMap) WriteColumn(w *proto.Writer) { w.ChainBuffer(a.EncodeColumn) }

// Reset empties the column, keeping capacity.
func (a *AttrMap) Reset() {
	a.offsets.Reset()
	a.keys.Reset()
	a.values.Reset()
	a.lastKeys, a.lastValues = 0, 0
}
