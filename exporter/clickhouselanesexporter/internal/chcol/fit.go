package chcol

import "github.com/ClickHouse/ch-go/proto"

// Fit returns the columns of in that an INSERT into a table with the given columns may name
// (name → system.columns default_kind), in the order of in. Columns the table does not have
// are missing; columns the table computes itself (DEFAULT, MATERIALIZED, ALIAS, EPHEMERAL)
// are computed: neither is sent. A table created by an older contrib exporter lacks the
// columns added since (EventName on logs) and computes some itself (TimestampTime).
func Fit(in proto.Input, table map[string]string) (fit proto.Input, missing, computed []string) {
	fit = make(proto.Input, 0, len(in))
	for _, c := range in {
		kind, ok := table[c.Name]
		switch {
		case !ok:
			missing = append(missing, c.Name)
		case kind != "":
			computed = append(computed, c.Name)
		default:
			fit = append(fit, c)
		}
	}
	return fit, missing, computed
}

// Required lists the columns of b without which a row is meaningless: a table that lacks one
// cannot be written, where a table that lacks any other column just does not get it.
func Required(b Block) []string {
	switch b.(type) {
	case *Logs:
		return []string{"Timestamp", "Body"}
	case *Traces:
		return []string{"Timestamp", "TraceId", "SpanId"}
	case *Gauge, *Sum:
		return []string{"MetricName", "TimeUnix", "Value"}
	default: // histograms and summaries
		return []string{"MetricName", "TimeUnix", "Count", "Sum"}
	}
}
