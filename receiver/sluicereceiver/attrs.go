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

// attrSets holds each combination as the options slice the instruments take, passed with
// opts...: a single option passed alone would make a new variadic slice at every call.
type attrSets struct {
	requests map[requestKey][]metric.AddOption    // outcome, reason, signal, transport
	duration map[requestKey][]metric.RecordOption // outcome, signal, transport (reason "")
	route    map[routeKey][]metric.RecordOption   // signal, transport
}

func newAttrSets() attrSets {
	a := attrSets{
		requests: make(map[requestKey][]metric.AddOption),
		duration: make(map[requestKey][]metric.RecordOption),
		route:    make(map[routeKey][]metric.RecordOption),
	}
	for _, s := range signals {
		for _, t := range transports {
			sig, tr := attribute.String("signal", s), attribute.String("transport", t)
			a.route[routeKey{s, t}] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(sig, tr))}
			for _, o := range outcomes {
				out := attribute.String("outcome", o)
				a.duration[requestKey{o, s, t, ""}] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(out, sig, tr))}
				for _, r := range reasons {
					a.requests[requestKey{o, s, t, r}] = []metric.AddOption{metric.WithAttributeSet(
						attribute.NewSet(out, attribute.String("reason", string(r)), sig, tr))}
				}
			}
		}
	}
	return a
}
