package clickhouselanesexporter

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// The drain bounds a batch by rows before it decodes any record (a batch's bounds are saved
// before its insert, and decoding it all at once is what streaming avoids), so it counts a
// record's rows by walking its protobuf: nested length-delimited fields, no allocation.

// Field numbers of the OTLP messages, outermost first: TracesData.resource_spans,
// ResourceSpans.scope_spans, ScopeSpans.spans (and the same numbers for logs).
var spanOrLogPath = [][]protowire.Number{{1}, {2}, {2}}

// MetricsData.resource_metrics, ResourceMetrics.scope_metrics, ScopeMetrics.metrics,
// Metric.gauge|sum|histogram|exponential_histogram|summary, then data_points.
var dataPointPath = [][]protowire.Number{{1}, {2}, {2}, {5, 7, 9, 10, 11}, {1}}

var errBadProtobuf = errors.New("malformed protobuf")

// countNested counts the fields at the end of path in the message b.
func countNested(b []byte, path [][]protowire.Number) (int, error) {
	n := 0
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, errBadProtobuf
		}
		b = b[l:]
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return 0, errBadProtobuf
		}
		if typ == protowire.BytesType && hasField(path[0], num) {
			if len(path) == 1 {
				n++
			} else {
				v, _ := protowire.ConsumeBytes(b[:l])
				c, err := countNested(v, path[1:])
				if err != nil {
					return 0, err
				}
				n += c
			}
		}
		b = b[l:]
	}
	return n, nil
}

func hasField(nums []protowire.Number, num protowire.Number) bool {
	for _, x := range nums {
		if x == num {
			return true
		}
	}
	return false
}
