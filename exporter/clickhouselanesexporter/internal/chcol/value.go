package chcol

import (
	"encoding/base64"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// appendValue appends v as the string the contrib schema stores: exactly pcommon.Value.AsString
// (ints in decimal, doubles as ES6 numbers, bools as true/false, bytes as standard base64, maps
// and slices as JSON). The scalar cases write into buf without allocating; maps and slices
// are rare in attributes and go through AsString itself.
func appendValue(buf []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return append(buf, v.Str()...)
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendDouble(buf, v.Double())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeBytes:
		return base64.StdEncoding.AppendEncode(buf, v.Bytes().AsRaw())
	case pcommon.ValueTypeEmpty:
		return buf
	default:
		return append(buf, v.AsString()...)
	}
}

// appendDouble formats f as an ES6 number, as AsString does, so a value reads the same whether
// it went through this exporter or the contrib one.
func appendDouble(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// ES6 writes e-7, Go writes e-07.
		b := buf[start:]
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			buf = buf[:len(buf)-1]
		}
	}
	return buf
}
