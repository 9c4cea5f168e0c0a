package chcol

import (
	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// appendU64s adds one array row from s without AsRaw's copy.
func appendU64s(arr *arrCol, s pcommon.UInt64Slice) {
	data := arr.data.(*proto.ColUInt64)
	for _, v := range s.All() {
		*data = append(*data, v)
	}
	arr.closeRow()
}

// appendF64s adds one array row from s without AsRaw's copy.
func appendF64s(arr *arrCol, s pcommon.Float64Slice) {
	data := arr.data.(*proto.ColFloat64)
	for _, v := range s.All() {
		*data = append(*data, v)
	}
	arr.closeRow()
}

// Gauge is the column set of otel_metrics_gauge.
type Gauge struct {
	metricBase
	value proto.ColFloat64
	flags proto.ColUInt32
	ex    *exemplars
}

func newGauge() *Gauge {
	g := &Gauge{ex: newExemplars()}
	g.init()
	g.input = append(g.input, g.valueColumns()...)
	return g
}

// valueColumns are the columns after the common ones, shared by gauge and sum tables.
func (g *Gauge) valueColumns() []proto.InputColumn {
	return append([]proto.InputColumn{{Name: "Value", Data: &g.value}, {Name: "Flags", Data: &g.flags}},
		g.ex.columns()...)
}

func (g *Gauge) append(mc *metricContext, dp pmetric.NumberDataPoint) {
	g.appendBase(mc, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
	g.value.Append(numberValue(dp))
	g.flags.Append(uint32(dp.Flags()))
	g.ex.append(dp.Exemplars())
}

// Sum is the column set of otel_metrics_sum.
type Sum struct {
	Gauge
	temporality proto.ColInt32
	monotonic   proto.ColBool
}

func newSum() *Sum {
	s := &Sum{Gauge: *newGauge()}
	// Rebuild the input: the copied Gauge's input points at the original's columns.
	s.init()
	s.input = append(s.input, s.valueColumns()...)
	s.input = append(s.input, proto.InputColumn{Name: "AggregationTemporality", Data: &s.temporality},
		proto.InputColumn{Name: "IsMonotonic", Data: &s.monotonic})
	return s
}

// histogramTail is the columns both histogram tables end with.
type histogramTail struct {
	ex          *exemplars
	flags       proto.ColUInt32
	min, max    proto.ColFloat64
	temporality proto.ColInt32
}

func (h *histogramTail) columns() []proto.InputColumn {
	return append(h.ex.columns(),
		proto.InputColumn{Name: "Flags", Data: &h.flags},
		proto.InputColumn{Name: "Min", Data: &h.min},
		proto.InputColumn{Name: "Max", Data: &h.max},
		proto.InputColumn{Name: "AggregationTemporality", Data: &h.temporality})
}

func (h *histogramTail) append(ex pmetric.ExemplarSlice, flags pmetric.DataPointFlags, minV, maxV float64, t pmetric.AggregationTemporality) {
	h.ex.append(ex)
	h.flags.Append(uint32(flags))
	h.min.Append(minV)
	h.max.Append(maxV)
	h.temporality.Append(int32(t))
}

// Histogram is the column set of otel_metrics_histogram.
type Histogram struct {
	metricBase
	count   proto.ColUInt64
	sum     proto.ColFloat64
	buckets *arrCol
	bounds  *arrCol
	tail    histogramTail
}

func newHistogram() *Histogram {
	h := &Histogram{tail: histogramTail{ex: newExemplars()}, buckets: newArr(new(proto.ColUInt64)),
		bounds: newArr(new(proto.ColFloat64))}
	h.init()
	h.input = append(h.input,
		proto.InputColumn{Name: "Count", Data: &h.count},
		proto.InputColumn{Name: "Sum", Data: &h.sum},
		proto.InputColumn{Name: "BucketCounts", Data: h.buckets},
		proto.InputColumn{Name: "ExplicitBounds", Data: h.bounds})
	h.input = append(h.input, h.tail.columns()...)
	return h
}

func (h *Histogram) append(mc *metricContext, dp pmetric.HistogramDataPoint, t pmetric.AggregationTemporality) {
	h.appendBase(mc, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
	h.count.Append(dp.Count())
	h.sum.Append(dp.Sum())
	appendU64s(h.buckets, dp.BucketCounts())
	appendF64s(h.bounds, dp.ExplicitBounds())
	h.tail.append(dp.Exemplars(), dp.Flags(), dp.Min(), dp.Max(), t)
}

// ExpHistogram is the column set of otel_metrics_exponential_histogram.
type ExpHistogram struct {
	metricBase
	count      proto.ColUInt64
	sum        proto.ColFloat64
	scale      proto.ColInt32
	zeroCount  proto.ColUInt64
	posOffset  proto.ColInt32
	posBuckets *arrCol
	negOffset  proto.ColInt32
	negBuckets *arrCol
	tail       histogramTail
}

func newExpHistogram() *ExpHistogram {
	h := &ExpHistogram{tail: histogramTail{ex: newExemplars()}, posBuckets: newArr(new(proto.ColUInt64)),
		negBuckets: newArr(new(proto.ColUInt64))}
	h.init()
	h.input = append(h.input,
		proto.InputColumn{Name: "Count", Data: &h.count},
		proto.InputColumn{Name: "Sum", Data: &h.sum},
		proto.InputColumn{Name: "Scale", Data: &h.scale},
		proto.InputColumn{Name: "ZeroCount", Data: &h.zeroCount},
		proto.InputColumn{Name: "PositiveOffset", Data: &h.posOffset},
		proto.InputColumn{Name: "PositiveBucketCounts", Data: h.posBuckets},
		proto.InputColumn{Name: "NegativeOffset", Data: &h.negOffset},
		proto.InputColumn{Name: "NegativeBucketCounts", Data: h.negBuckets})
	h.input = append(h.input, h.tail.columns()...)
	return h
}

func (h *ExpHistogram) append(mc *metricContext, dp pmetric.ExponentialHistogramDataPoint, t pmetric.AggregationTemporality) {
	h.appendBase(mc, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
	h.count.Append(dp.Count())
	h.sum.Append(dp.Sum())
	h.scale.Append(dp.Scale())
	h.zeroCount.Append(dp.ZeroCount())
	h.posOffset.Append(dp.Positive().Offset())
	appendU64s(h.posBuckets, dp.Positive().BucketCounts())
	h.negOffset.Append(dp.Negative().Offset())
	appendU64s(h.negBuckets, dp.Negative().BucketCounts())
	h.tail.append(dp.Exemplars(), dp.Flags(), dp.Min(), dp.Max(), t)
}

// Summary is the column set of otel_metrics_summary.
type Summary struct {
	metricBase
	count     proto.ColUInt64
	sum       proto.ColFloat64
	quantile  *arrCol
	quantiles *proto.ColFloat64
	value     *arrCol
	values    *proto.ColFloat64
	flags     proto.ColUInt32
}

func newSummary() *Summary {
	s := &Summary{quantiles: new(proto.ColFloat64), values: new(proto.ColFloat64)}
	s.quantile = newArr(s.quantiles)
	s.value = newArr(s.values)
	s.init()
	s.input = append(s.input,
		proto.InputColumn{Name: "Count", Data: &s.count},
		proto.InputColumn{Name: "Sum", Data: &s.sum},
		proto.InputColumn{Name: "ValueAtQuantiles.Quantile", Data: s.quantile},
		proto.InputColumn{Name: "ValueAtQuantiles.Value", Data: s.value},
		proto.InputColumn{Name: "Flags", Data: &s.flags})
	return s
}

func (s *Summary) append(mc *metricContext, dp pmetric.SummaryDataPoint) {
	s.appendBase(mc, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
	s.count.Append(dp.Count())
	s.sum.Append(dp.Sum())
	for _, q := range dp.QuantileValues().All() {
		s.quantiles.Append(q.Quantile())
		s.values.Append(q.Value())
	}
	s.quantile.closeRow()
	s.value.closeRow()
	s.flags.Append(uint32(dp.Flags()))
}
