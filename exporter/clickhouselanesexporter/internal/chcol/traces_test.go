package chcol

import (
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func spansForAllocs() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 2 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		rs.Resource().Attributes().PutInt("r", int64(r))
		ss := rs.ScopeSpans().AppendEmpty()
		for i := range 50 {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(pcommon.TraceID{1, byte(i)})
			sp.SetName("op")
			for a := range 10 {
				sp.Attributes().PutInt(string(rune('a'+a)), int64(a))
			}
			sp.Events().AppendEmpty().Attributes().PutDouble("d", 1.5)
			sp.Links().AppendEmpty().Attributes().PutBool("b", true)
		}
	}
	return td
}

// TestWarmTracesBlockDoesNotAllocate: once a block has grown to a batch's size, converting
// another batch of that size allocates nothing (encoding is covered by the benchmarks).
func TestWarmTracesBlockDoesNotAllocate(t *testing.T) {
	td := spansForAllocs()
	b := NewTraces()
	b.Append(td)
	allocs := testing.AllocsPerRun(20, func() {
		b.Reset()
		b.Append(td)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per batch, want 0", allocs)
	}
	if b.Rows() != 100 {
		t.Errorf("Rows = %d, want 100", b.Rows())
	}
}

// TestResourceAttributesRepeatPerRow: every row of a resource carries its attributes, and a
// new resource starts fresh.
func TestResourceAttributesRepeatPerRow(t *testing.T) {
	b := NewTraces()
	b.Append(spansForAllocs())
	rows := decodeMaps(t, &b.resourceAttrs)
	for _, row := range []int{0, 1, 49, 50, 99} {
		got := rows[row]
		want := map[string]string{"service.name": "svc", "r": map[bool]string{true: "0", false: "1"}[row < 50]}
		if len(got) != 2 || got["service.name"] != want["service.name"] || got["r"] != want["r"] {
			t.Errorf("row %d: %v, want %v", row, got, want)
		}
	}
	// Every column has one row per span, so the block is consistent.
	for _, c := range b.Input() {
		if c.Data.Rows() != 100 {
			t.Errorf("%s has %d rows, want 100", c.Name, c.Data.Rows())
		}
	}
	var buf proto.Buffer
	for _, c := range b.Input() {
		if p, ok := c.Data.(proto.Preparable); ok {
			if err := p.Prepare(); err != nil {
				t.Fatal(err)
			}
		}
		c.Data.EncodeColumn(&buf)
	}
}

// decodeMaps reads a's wire bytes back with ch-go's own Map(String, String) decoder.
func decodeMaps(t *testing.T, a *AttrMap) []map[string]string {
	t.Helper()
	var buf proto.Buffer
	a.EncodeColumn(&buf)
	m := proto.NewMap[string, string](new(proto.ColStr), new(proto.ColStr))
	if err := m.DecodeColumn(buf.Reader(), a.Rows()); err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]string, m.Rows())
	for i := range out {
		out[i] = m.Row(i)
	}
	return out
}

// TestAttrMapRepeatAfterEmptyRow: repeating a row with no entries, and rows after it.
func TestAttrMapRepeatAfterEmptyRow(t *testing.T) {
	var a AttrMap
	one := pcommon.NewMap()
	one.PutStr("k", "v")
	a.Append(one)
	a.AppendRepeat()
	a.Append(pcommon.NewMap())
	a.AppendRepeat()
	a.Append(one)
	a.AppendRepeat()
	got := decodeMaps(t, &a)
	want := []int{1, 1, 0, 0, 1, 1}
	for i, n := range want {
		if len(got[i]) != n || (n == 1 && got[i]["k"] != "v") {
			t.Errorf("row %d = %v", i, got[i])
		}
	}
}
