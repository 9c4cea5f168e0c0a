package sluicereceiver

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// wirePath is where a signal's items sit in its serialized export request: at each level,
// the length-delimited fields to follow (more than one where OTLP kept a deprecated field,
// or where metric types differ); the last level's fields are the items.
type wirePath [][]protowire.Number

// The item paths of the three OTLP export requests. 1000 is the deprecated
// instrumentation_library_* field that pdata still reads in place of scope_*.
var (
	spansPath      = wirePath{{1}, {2, 1000}, {2}}                         // resource_spans, scope_spans, spans
	logRecordsPath = wirePath{{1}, {2, 1000}, {2}}                         // resource_logs, scope_logs, log_records
	dataPointsPath = wirePath{{1}, {2, 1000}, {2}, {5, 7, 9, 10, 11}, {1}} // ..., metrics, gauge|sum|histogram|exponential_histogram|summary, data_points
)

// countItems counts the items of a serialized request without decoding it: it reads tags
// and lengths only, skipping every other field. It is for the refused-items metrics of a
// request refused before decoding; on malformed input it counts what it could read.
func countItems(b []byte, path wirePath) int {
	if len(path) == 0 {
		return 1
	}
	n := 0
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return n
		}
		b = b[l:]
		if typ == protowire.BytesType && slices.Contains(path[0], num) {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return n
			}
			n += countItems(v, path[1:])
			b = b[l:]
			continue
		}
		if l = protowire.ConsumeFieldValue(num, typ, b); l < 0 {
			return n
		}
		b = b[l:]
	}
	return n
}
