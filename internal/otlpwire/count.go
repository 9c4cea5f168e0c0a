// Package otlpwire reads serialized OTLP export requests without decoding them: it counts a
// request's items from tags and lengths alone, with no allocation. The receiver uses it for
// the refused-items metrics of a request refused before decoding; the exporter to bound a
// write-ahead-log batch by rows before it decodes any record.
package otlpwire

import (
	"errors"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Path is where a signal's items sit in its serialized export request: at each level, the
// length-delimited fields to follow (more than one where OTLP kept a deprecated field, or
// where metric types differ); the last level's fields are the items.
type Path [][]protowire.Number

// The item paths of the three OTLP export requests. 1000 is the deprecated
// instrumentation_library_* field that pdata still reads in place of scope_*.
var (
	Spans      = Path{{1}, {2, 1000}, {2}}                         // resource_spans, scope_spans, spans
	LogRecords = Path{{1}, {2, 1000}, {2}}                         // resource_logs, scope_logs, log_records
	DataPoints = Path{{1}, {2, 1000}, {2}, {5, 7, 9, 10, 11}, {1}} // ..., metrics, gauge|sum|histogram|exponential_histogram|summary, data_points
)

// ErrMalformed: the bytes are not a well-formed protobuf message.
var ErrMalformed = errors.New("malformed protobuf")

// Count counts the fields at the end of path in the message b, skipping every other field.
// On malformed input it returns what it counted before the damage, and ErrMalformed.
func Count(b []byte, path Path) (int, error) {
	n := 0
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return n, ErrMalformed
		}
		b = b[l:]
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return n, ErrMalformed
		}
		if typ == protowire.BytesType && slices.Contains(path[0], num) {
			if len(path) == 1 {
				n++
			} else {
				v, _ := protowire.ConsumeBytes(b[:l])
				c, err := Count(v, path[1:])
				n += c
				if err != nil {
					return n, err
				}
			}
		}
		b = b[l:]
	}
	return n, nil
}
