package chcol

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TestAppendValueMatchesAsString: the stored string is exactly what the contrib exporter
// stores (pcommon.Value.AsString) for every value type and the awkward doubles.
func TestAppendValueMatchesAsString(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("str", "a\xffb")
	m.PutStr("empty", "")
	m.PutInt("int", math.MinInt64)
	m.PutBool("false", false)
	m.PutEmpty("nil")
	m.PutEmptyBytes("bytes").FromRaw([]byte{0, 0xff, 0x10})
	m.PutEmptyBytes("nobytes")
	for i, f := range []float64{0, -0.0, 1, -1.5, 3.25e-9, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2} {
		m.PutDouble("d"+string(rune('a'+i)), f)
	}
	s := m.PutEmptySlice("slice")
	s.AppendEmpty().SetStr("<x>")
	s.AppendEmpty().SetDouble(2)
	m.PutEmptyMap("map").PutEmptyMap("inner").PutBool("b", true)
	for k, v := range m.All() {
		if got, want := string(appendValue([]byte("prefix"), v)), "prefix"+v.AsString(); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
}
