package sluicereceiver

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// Every attribute combination is built once: recording a metric on the refusal path must not
// allocate attribute sets under a flood.
var (
	signals    = []string{"traces", "metrics", "logs"}
	transports = []string{"grpc", "http"}
	outcomes   = []string{"accepted", "refused"}
	reasons    = []backpressure.Reason{
		backpressure.ReasonNone, backpressure.ReasonOverloaded, backpressure.ReasonInflightBytes,
		backpressure.ReasonTenantShare, backpressure.ReasonDownstreamBackpressure,
		backpressure.ReasonDownstreamUnavailable, backpressure.ReasonDownstreamInvalid,
		backpressure.ReasonInvalid, backpressure.ReasonTooLarge, backpressure.ReasonBodyTimeout,
	}
)

type requestKey struct {
	outcome, signal, transport string
	reason                     backpressure.Reason
}

type routeKey struct{ signal, transport string }

type attrSets struct {
	requests map[requestKey]metric.MeasurementOption // outcome, reason, signal, transport
	duration map[requestKey]metric.MeasurementOption // outcome, signal, transport (reason "")
	route    map[routeKey]metric.MeasurementOption   // signal, transport
}

func newAttrSets() attrSets {
	a := attrSets{
		requests: make(map[requestKey]metric.MeasurementOption),
		duration: make(map[requestKey]metric.MeasurementOption),
		route:    make(map[routeKey]metric.MeasurementOption),
	}
	for _, s := range signals {
		for _, t := range transports {
			sig, tr := attribute.String("signal", s), attribute.String("transport", t)
			a.route[routeKey{s, t}] = metric.WithAttributeSet(attribute.NewSet(sig, tr))
			for _, o := range outcomes {
				out := attribute.String("outcome", o)
				a.duration[requestKey{o, s, t, ""}] = metric.WithAttributeSet(attribute.NewSet(out, sig, tr))
				for _, r := range reasons {
					a.requests[requestKey{o, s, t, r}] = metric.WithAttributeSet(
						attribute.NewSet(out, attribute.String("reason", string(r)), sig, tr))
				}
			}
		}
	}
	return a
}
