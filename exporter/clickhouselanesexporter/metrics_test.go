package clickhouselanesexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sluicehq/sluice/internal/chlocal"
)

var (
	metricStart = pcommon.Timestamp(1_764_000_000_000_000_000)
	metricTime  = pcommon.Timestamp(1_764_000_060_500_000_000) // .5 s: stored as whole seconds
)

func testMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.SetSchemaUrl("https://res.example/1")
	rm.Resource().Attributes().PutStr("service.name", "billing")
	putEveryType(rm.Resource().Attributes(), "res.")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.SetSchemaUrl("https://scope.example/1")
	sm.Scope().SetName("meter")
	sm.Scope().SetVersion("0.9")
	sm.Scope().SetDroppedAttributesCount(3)
	sm.Scope().Attributes().PutBool("scope.b", true)

	setCommon := func(m pmetric.Metric, name string) {
		m.SetName(name)
		m.SetDescription("desc of " + name)
		m.SetUnit("ms")
	}
	g := sm.Metrics().AppendEmpty()
	setCommon(g, "queue.depth")
	gdp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	gdp.SetStartTimestamp(metricStart)
	gdp.SetTimestamp(metricTime)
	gdp.SetIntValue(-7)
	gdp.Attributes().PutStr("queue", "a")
	gdp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	ex := gdp.Exemplars().AppendEmpty()
	ex.SetTimestamp(metricTime)
	ex.SetDoubleValue(2.5)
	ex.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	ex.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	ex.FilteredAttributes().PutInt("user", 42)

	s := sm.Metrics().AppendEmpty()
	setCommon(s, "requests")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	sdp := sum.DataPoints().AppendEmpty()
	sdp.SetTimestamp(metricTime)
	sdp.SetDoubleValue(123.25)

	h := sm.Metrics().AppendEmpty()
	setCommon(h, "latency")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hdp := hist.DataPoints().AppendEmpty()
	hdp.SetTimestamp(metricTime)
	hdp.SetCount(6)
	hdp.SetSum(60.5)
	hdp.SetMin(0.5)
	hdp.SetMax(40)
	hdp.BucketCounts().FromRaw([]uint64{1, 2, 3})
	hdp.ExplicitBounds().FromRaw([]float64{1, 10})

	e := sm.Metrics().AppendEmpty()
	setCommon(e, "size")
	eh := e.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	edp := eh.DataPoints().AppendEmpty()
	edp.SetTimestamp(metricTime)
	edp.SetCount(10)
	edp.SetSum(-3.5)
	edp.SetScale(-2)
	edp.SetZeroCount(1)
	edp.Positive().SetOffset(3)
	edp.Positive().BucketCounts().FromRaw([]uint64{4, 1})
	edp.Negative().SetOffset(-5)
	edp.Negative().BucketCounts().FromRaw([]uint64{2, 0, 2})
	edp.SetMin(-9)
	edp.SetMax(7)

	su := sm.Metrics().AppendEmpty()
	setCommon(su, "rpc.duration")
	sdp2 := su.SetEmptySummary().DataPoints().AppendEmpty()
	sdp2.SetTimestamp(metricTime)
	sdp2.SetCount(4)
	sdp2.SetSum(8)
	for _, q := range [][2]float64{{0.5, 1.5}, {0.99, 4}} {
		qv := sdp2.QuantileValues().AppendEmpty()
		qv.SetQuantile(q[0])
		qv.SetValue(q[1])
	}
	return md
}

// queryOne scans the single row of query into dest, failing unless there is exactly one.
func queryOne(t *testing.T, exp func(string) string, query string, dest ...any) {
	t.Helper()
	conn := openDB(t, exp(""))
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
	}
	if n != 1 {
		t.Fatalf("%s: %d rows, want 1", query, n)
	}
}

// TestMetricsRoundTripEveryType writes one point of each metric type and reads them back,
// inserted at once (on_insert) and through the write-ahead log (on_wal: a record of five
// tables' columns, drained at shutdown).
func TestMetricsRoundTripEveryType(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	for _, ack := range []Acknowledge{AckOnInsert, AckOnWAL} {
		t.Run(string(ack), func(t *testing.T) { metricsRoundTrip(t, endpoint, ack) })
	}
}

func metricsRoundTrip(t *testing.T, endpoint string, ack Acknowledge) {
	cfg := testConfig(t, endpoint)
	cfg.Acknowledge = ack
	if ack == AckOnWAL {
		cfg.WAL.Directory = t.TempDir()
	}
	exp, err := NewFactory().CreateMetrics(context.Background(), nopSettings(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	md := testMetrics()
	if err := exp.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatalf("consume: %v", err)
	}
	if ack == AckOnWAL {
		if err := exp.Shutdown(context.Background()); err != nil { // drains the log
			t.Fatal(err)
		}
	}
	ep := func(string) string { return endpoint }
	tbl := func(name string) string { return quotedTable(cfg.Database, name) }
	eq := func(what string, got, want any) {
		t.Helper()
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Errorf("%s = %.300s, want %.300s", what, g, w)
		}
	}
	rm := md.ResourceMetrics().At(0)

	var (
		resAttrs, scopeAttrs, attrs           map[string]string
		resURL, scopeName, scopeVer, scopeURL string
		service, name, desc, unit             string
		dropped, flags                        uint32
		start, ts                             time.Time
		value                                 float64
		exAttrs                               []map[string]string
		exTimes                               []time.Time
		exValues                              []float64
		exSpans, exTraces                     []string
	)
	queryOne(t, ep, "SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, "+
		"ScopeDroppedAttrCount, ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, "+
		"StartTimeUnix, TimeUnix, Value, Flags, `Exemplars.FilteredAttributes`, `Exemplars.TimeUnix`, "+
		"`Exemplars.Value`, `Exemplars.SpanId`, `Exemplars.TraceId` FROM "+tbl(cfg.MetricsTables.Gauge.Name),
		&resAttrs, &resURL, &scopeName, &scopeVer, &scopeAttrs, &dropped, &scopeURL, &service, &name, &desc, &unit,
		&attrs, &start, &ts, &value, &flags, &exAttrs, &exTimes, &exValues, &exSpans, &exTraces)
	eq("ResourceAttributes", resAttrs, asStrings(rm.Resource().Attributes()))
	eq("scope", []any{resURL, scopeName, scopeVer, scopeAttrs, dropped, scopeURL},
		[]any{"https://res.example/1", "meter", "0.9", map[string]string{"scope.b": "true"}, 3, "https://scope.example/1"})
	eq("metric", []any{service, name, desc, unit, attrs}, []any{"billing", "queue.depth", "desc of queue.depth", "ms", map[string]string{"queue": "a"}})
	eq("times", []int64{start.Unix(), ts.Unix()}, []int64{1_764_000_000, 1_764_000_060})
	eq("gauge value, flags", []any{value, flags}, []any{-7, 1})
	eq("exemplars", []any{exAttrs, exTimes[0].Unix(), exValues, exSpans, exTraces}, []any{
		[]map[string]string{{"user": "42"}}, 1_764_000_060, []float64{2.5}, []string{"0102030405060708"},
		[]string{"0102030405060708090a0b0c0d0e0f10"}})

	var temporality int32
	var monotonic bool
	queryOne(t, ep, "SELECT Value, AggregationTemporality, IsMonotonic, length(`Exemplars.Value`) = 0 FROM "+
		tbl(cfg.MetricsTables.Sum.Name), &value, &temporality, &monotonic, new(bool))
	eq("sum", []any{value, temporality, monotonic}, []any{123.25, 2, true})

	var count uint64
	var sumV, minV, maxV float64
	var buckets []uint64
	var bounds []float64
	queryOne(t, ep, "SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality FROM "+
		tbl(cfg.MetricsTables.Histogram.Name), &count, &sumV, &buckets, &bounds, &minV, &maxV, &temporality)
	eq("histogram", []any{count, sumV, buckets, bounds, minV, maxV, temporality},
		[]any{6, 60.5, []uint64{1, 2, 3}, []float64{1, 10}, 0.5, 40, 1})

	var scale, posOff, negOff int32
	var zero uint64
	var pos, neg []uint64
	queryOne(t, ep, "SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, "+
		"NegativeBucketCounts, Min, Max FROM "+tbl(cfg.MetricsTables.ExponentialHistogram.Name),
		&count, &sumV, &scale, &zero, &posOff, &pos, &negOff, &neg, &minV, &maxV)
	eq("exponential histogram", []any{count, sumV, scale, zero, posOff, pos, negOff, neg, minV, maxV},
		[]any{10, -3.5, -2, 1, 3, []uint64{4, 1}, -5, []uint64{2, 0, 2}, -9, 7})

	var qs, vs []float64
	queryOne(t, ep, "SELECT Count, Sum, `ValueAtQuantiles.Quantile`, `ValueAtQuantiles.Value` FROM "+
		tbl(cfg.MetricsTables.Summary.Name), &count, &sumV, &qs, &vs)
	eq("summary", []any{count, sumV, qs, vs}, []any{4, 8, []float64{0.5, 0.99}, []float64{1.5, 4}})
}
