package chcol

import (
	"encoding/hex"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// appendStr appends one row written by fill straight into the column's buffer, so formatted
// values (numbers, hex ids) need no intermediate string.
func appendStr(c *proto.ColStr, fill func([]byte) []byte) {
	start := len(c.Buf)
	c.Buf = fill(c.Buf)
	c.Pos = append(c.Pos, proto.Position{Start: start, End: len(c.Buf)})
}

// appendValueStr appends v formatted as appendValue does.
func appendValueStr(c *proto.ColStr, v pcommon.Value) {
	start := len(c.Buf)
	c.Buf = appendValue(c.Buf, v)
	c.Pos = append(c.Pos, proto.Position{Start: start, End: len(c.Buf)})
}

// appendTraceID appends the lowercase hex of id, or "" for the all-zero (invalid) id, as the
// contrib exporter does.
func appendTraceID(c *proto.ColStr, id pcommon.TraceID) {
	start := len(c.Buf)
	if !id.IsEmpty() {
		c.Buf = hex.AppendEncode(c.Buf, id[:])
	}
	c.Pos = append(c.Pos, proto.Position{Start: start, End: len(c.Buf)})
}

// appendSpanID is appendTraceID for span ids.
func appendSpanID(c *proto.ColStr, id pcommon.SpanID) {
	start := len(c.Buf)
	if !id.IsEmpty() {
		c.Buf = hex.AppendEncode(c.Buf, id[:])
	}
	c.Pos = append(c.Pos, proto.Position{Start: start, End: len(c.Buf)})
}

// lowCard fills a LowCardinality(String) column. It is sent as plain String and the server
// converts it on insert (it accepts any block type castable to the column's): building the
// dictionary client-side costs a hash lookup per value, the largest single cost of encoding a
// span, while the server re-indexes the values into each part's dictionary anyway. The table
// type stays LowCardinality(String); only the wire type differs.
type lowCard = proto.ColStr

func newLowCard() *lowCard { return new(proto.ColStr) }
