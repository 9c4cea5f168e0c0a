package chcol

import (
	"slices"
	"testing"
)

// TestFitWritesOnlyWhatTheTableTakes: columns the table lacks or computes are left out, the
// others keep the block's order.
func TestFitWritesOnlyWhatTheTableTakes(t *testing.T) {
	l := NewLogs()
	table := map[string]string{"Timestamp": "", "TimestampTime": "DEFAULT", "Body": "", "ServiceName": "MATERIALIZED", "TraceId": ""}
	fit, missing, computed := Fit(l.Input(), table)
	var names []string
	for _, c := range fit {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"Timestamp", "TraceId", "Body"}) {
		t.Errorf("fit = %v", names)
	}
	if !slices.Equal(computed, []string{"ServiceName"}) {
		t.Errorf("computed = %v", computed)
	}
	if len(missing) != len(l.Input())-4 || !slices.Contains(missing, "EventName") {
		t.Errorf("missing = %v", missing)
	}
	if len(l.Input()) != 16 {
		t.Errorf("Fit changed the block's own input: %d columns", len(l.Input()))
	}
}
