package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// AttrMap is a Map(LowCardinality(String), String) column filled straight from pcommon.Map:
// keys are referenced, values formatted into one shared byte buffer.
type AttrMap struct {
	col    *proto.ColMap[string, string]
	keys   *lowCard
	values *proto.ColStr
}

// NewAttrMap returns an empty attribute column.
func NewAttrMap() *AttrMap {
	keys, values := newLowCard(), new(proto.ColStr)
	return &AttrMap{col: proto.NewMap[string, string](keys, values), keys: keys, values: values}
}

// Append adds one row holding every attribute of m.
func (a *AttrMap) Append(m pcommon.Map) {
	a.appendEntries(m)
	a.col.Offsets = append(a.col.Offsets, uint64(a.values.Rows()))
}

// AppendRepeat adds a row equal to the previous one (there must be one). Every span of a
// resource carries the same resource attributes: copying the formatted bytes of the row before
// skips walking and formatting the pdata map again.
func (a *AttrMap) AppendRepeat() {
	offs := a.col.Offsets
	end := int(offs[len(offs)-1])
	start := 0
	if len(offs) > 1 {
		start = int(offs[len(offs)-2])
	}
	if start < end {
		repeatRows(a.keys, start, end)
		repeatRows(a.values, start, end)
	}
	a.col.Offsets = append(a.col.Offsets, uint64(a.values.Rows()))
}

// repeatRows appends a copy of rows [start, end) of c, which are contiguous in its buffer.
func repeatRows(c *proto.ColStr, start, end int) {
	first, last := c.Pos[start].Start, c.Pos[end-1].End
	shift := len(c.Buf) - first
	c.Buf = append(c.Buf, c.Buf[first:last]...)
	for _, p := range c.Pos[start:end] {
		c.Pos = append(c.Pos, proto.Position{Start: p.Start + shift, End: p.End + shift})
	}
}

// appendEntries adds m's entries without closing the row; Nested columns close rows themselves.
func (a *AttrMap) appendEntries(m pcommon.Map) {
	for k, v := range m.All() {
		a.keys.Append(k)
		appendValueStr(a.values, v)
	}
}

// Column is the proto column to put in an input.
func (a *AttrMap) Column() proto.ColInput { return a.col }

// Reset empties the column, keeping capacity.
func (a *AttrMap) Reset() {
	a.col.Reset()
}

// attrMapArray is Array(Map(LowCardinality(String), String)), the Attributes of a Nested
// column: one array per row, one map per element.
type attrMapArray struct {
	col  *proto.ColArr[map[string]string]
	maps *AttrMap
}

func newAttrMapArray() *attrMapArray {
	m := NewAttrMap()
	return &attrMapArray{col: proto.NewArray[map[string]string](m.col), maps: m}
}

// appendElem adds one map element to the open row.
func (a *attrMapArray) appendElem(m pcommon.Map) { a.maps.Append(m) }

// closeRow ends the current row after its elements were appended.
func (a *attrMapArray) closeRow() {
	a.col.Offsets = append(a.col.Offsets, uint64(a.maps.col.Rows()))
}
