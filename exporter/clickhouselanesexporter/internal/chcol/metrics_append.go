package chcol

import "go.opentelemetry.io/collector/pdata/pmetric"

// Metrics is the five metric blocks a metrics writer fills together.
type Metrics struct {
	Gauge                *Gauge
	Sum                  *Sum
	Histogram            *Histogram
	ExponentialHistogram *ExpHistogram
	Summary              *Summary
}

// NewMetrics returns empty blocks for the five metric tables.
func NewMetrics() Metrics {
	return Metrics{Gauge: newGauge(), Sum: newSum(), Histogram: newHistogram(),
		ExponentialHistogram: newExpHistogram(), Summary: newSummary()}
}

// AppendMetrics converts every data point of md into a row of its type's block. Metrics of
// type Empty carry no points and are skipped.
func AppendMetrics(md pmetric.Metrics, g *Gauge, s *Sum, h *Histogram, eh *ExpHistogram, su *Summary) {
	var mc metricContext
	for _, rm := range md.ResourceMetrics().All() {
		mc.rm, mc.service = rm, serviceName(rm.Resource().Attributes())
		for _, sm := range rm.ScopeMetrics().All() {
			mc.sm = sm
			for _, m := range sm.Metrics().All() {
				mc.m = m
				appendMetric(&mc, g, s, h, eh, su)
			}
		}
	}
}

func appendMetric(mc *metricContext, g *Gauge, s *Sum, h *Histogram, eh *ExpHistogram, su *Summary) {
	switch m := mc.m; m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			g.append(mc, dp)
		}
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		for _, dp := range sum.DataPoints().All() {
			s.Gauge.append(mc, dp)
			s.temporality.Append(int32(sum.AggregationTemporality()))
			s.monotonic.Append(sum.IsMonotonic())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			h.append(mc, dp, m.Histogram().AggregationTemporality())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			eh.append(mc, dp, m.ExponentialHistogram().AggregationTemporality())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			su.append(mc, dp)
		}
	}
}
