package backpressure

import (
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Classify maps an error returned by the pipeline to the response owed to the client.
// fallback is the retry hint used when a retryable error carries none. It never panics.
//
// Precedence, most specific first:
//   - nil: OK;
//   - errors.Join at the top: each part is classified and the most retryable answer wins,
//     because refusing for good would lose data another part of the pipeline may yet take;
//   - a permanent error: 400 / INVALID_ARGUMENT, or a partial success when it carries the
//     rejected data (consumererror.NewTraces and friends);
//   - a gRPC status anywhere in the chain (its RetryInfo is kept);
//   - a consumererror.Error (NewOTLPGRPCError with a non-nil original error,
//     NewOTLPHTTPError, NewRetryableError), whose status only ToGRPCStatus can reveal;
//   - anything else, e.g. memory_limiter's ErrDataRefused: 503 / UNAVAILABLE with a hint.
func Classify(err error, fallback time.Duration) Response {
	if err == nil {
		return OK
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return classifyJoined(joined.Unwrap(), fallback)
	}
	if consumererror.IsPermanent(err) {
		return permanent(err)
	}
	if st, ok := findStatus(err); ok {
		return fromStatus(st, fallback)
	}
	if _, ok := errors.AsType[*consumererror.Error](err); ok {
		// Safe: ToGRPCStatus only dereferences nil when no consumererror.Error is present.
		return fromStatus(consumererror.ToGRPCStatus(err), fallback)
	}
	return retryable(codes.Unavailable, http.StatusServiceUnavailable, ReasonDownstreamUnavailable, message(err), fallback)
}

// findStatus returns the first gRPC status in the chain with its own message; status.FromError
// would replace the message with the whole chain's "rpc error: code = ..." text.
func findStatus(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) && gs.GRPCStatus() != nil {
		return gs.GRPCStatus(), true
	}
	return nil, false
}

func classifyJoined(errs []error, fallback time.Duration) Response {
	best := OK
	for _, e := range errs {
		if e == nil {
			continue
		}
		if r := Classify(e, fallback); rank(r) > rank(best) {
			best = r
		}
	}
	return best
}

// rank orders responses by how much retrying can help.
func rank(r Response) int {
	switch {
	case r.HTTPStatus == http.StatusTooManyRequests:
		return 4
	case r.RetryAfter > 0:
		return 3
	case r.Partial:
		return 1
	case r.IsError():
		return 2
	}
	return 0
}

func permanent(err error) Response {
	msg := message(err)
	if st, ok := findStatus(err); ok && st.Message() != "" {
		// The status already is the sentence for the client: err.Error() would prefix it with
		// "Permanent error: rpc error: code = InvalidArgument desc = ", and a client that wraps
		// our answer the same way repeats it.
		msg = clean(st.Message())
	}
	if rejectedData(err) {
		return Response{HTTPStatus: http.StatusOK, Reason: ReasonDownstreamInvalid, Message: msg, Partial: true}
	}
	return Response{
		HTTPStatus: http.StatusBadRequest,
		GRPC:       status.New(codes.InvalidArgument, msg),
		Reason:     ReasonDownstreamInvalid,
		Message:    msg,
	}
}

func rejectedData(err error) bool {
	var (
		t consumererror.Traces
		m consumererror.Metrics
		l consumererror.Logs
	)
	return errors.As(err, &t) || errors.As(err, &m) || errors.As(err, &l)
}

// fromStatus normalises a downstream status to the three answers of the contract, keeping
// the message and any RetryInfo.
func fromStatus(st *status.Status, fallback time.Duration) Response {
	msg := clean(st.Message())
	if st.Message() == "" {
		msg = "downstream refused the data: " + st.Code().String()
	}
	hint, ok := RetryDelay(st)
	if !ok {
		hint = fallback
	}
	switch st.Code() {
	case codes.ResourceExhausted:
		return retryable(codes.ResourceExhausted, http.StatusTooManyRequests, ReasonDownstreamBackpressure, msg, hint)
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Unimplemented, codes.Unauthenticated:
		return Response{
			HTTPStatus: http.StatusBadRequest,
			GRPC:       status.New(codes.InvalidArgument, msg),
			Reason:     ReasonDownstreamInvalid,
			Message:    msg,
		}
	}
	// Unavailable, the other retryable codes, and Unknown/Internal: the contract has no 500s.
	return retryable(codes.Unavailable, http.StatusServiceUnavailable, ReasonDownstreamUnavailable, msg, hint)
}

func message(err error) string {
	if msg := err.Error(); msg != "" {
		return clean(msg)
	}
	return "downstream error with no message"
}
