package backpressure

import (
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// QueueFull is the error a component returns when it is temporarily out of room: the client
// should slow down and retry after retryAfter. Receivers answer 429 / RESOURCE_EXHAUSTED.
//
// The status travels as consumererror.NewOTLPGRPCError(nil, st): with a nil original error
// the chain unwraps to the status itself, so the core otlp receiver answers the same way.
func QueueFull(msg string, retryAfter time.Duration) error {
	return consumererror.NewOTLPGRPCError(nil, WithRetryInfo(status.New(codes.ResourceExhausted, msg), retryAfter))
}

// Unavailable is the error for a transient failure of the destination (breaker open, insert
// failed): retry after retryAfter. Receivers answer 503 / UNAVAILABLE.
func Unavailable(msg string, retryAfter time.Duration) error {
	return consumererror.NewOTLPGRPCError(nil, WithRetryInfo(status.New(codes.Unavailable, msg), retryAfter))
}

// Invalid is the error for data the destination rejected for good (types, schema). It is
// permanent: receivers answer 400 / INVALID_ARGUMENT with no retry hint.
func Invalid(msg string) error {
	return consumererror.NewPermanent(consumererror.NewOTLPGRPCError(nil, status.New(codes.InvalidArgument, msg)))
}

// WithRetryInfo returns st with a RetryInfo detail asking for a retry after d (at least 1s,
// whole seconds, so gRPC and HTTP clients see the same hint). The collector's OTLP exporters
// retry RESOURCE_EXHAUSTED only when this detail is present.
func WithRetryInfo(st *status.Status, d time.Duration) *status.Status {
	d = wholeSeconds(d)
	withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	if err != nil {
		// Only an OK status refuses details; there is nothing to retry then.
		return st
	}
	return withInfo
}

// RetryDelay returns the RetryInfo hint carried by st, if any.
func RetryDelay(st *status.Status) (time.Duration, bool) {
	if st == nil {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// wholeSeconds rounds d up to whole seconds, at least one: Retry-After cannot say less.
func wholeSeconds(d time.Duration) time.Duration {
	if d <= time.Second {
		return time.Second
	}
	return ((d + time.Second - 1) / time.Second) * time.Second
}
