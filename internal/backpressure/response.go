package backpressure

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reason is why a request was refused, in the lowercase canonical form used as a metric
// attribute value and in logs.
type Reason string

// Reasons; the first four come from the receiver's own admission gate.
const (
	ReasonNone                   Reason = "none"
	ReasonOverloaded             Reason = "overloaded"
	ReasonInflightBytes          Reason = "inflight_bytes"
	ReasonTenantShare            Reason = "tenant_share"
	ReasonTooLarge               Reason = "too_large"
	ReasonInvalid                Reason = "invalid"
	ReasonBodyTimeout            Reason = "body_timeout" // the body did not arrive within the receiver's bound
	ReasonDownstreamBackpressure Reason = "downstream_backpressure"
	ReasonDownstreamUnavailable  Reason = "downstream_unavailable"
	ReasonDownstreamInvalid      Reason = "downstream_invalid"
)

// Response is what a receiver answers: the same decision for both transports.
type Response struct {
	// HTTPStatus is the OTLP/HTTP status code (200 for success and partial success).
	HTTPStatus int
	// GRPC is the gRPC status (code, message, RetryInfo detail when RetryAfter > 0).
	// It is nil on success and partial success.
	GRPC *status.Status
	// RetryAfter is the hint for the client; zero means "do not retry".
	RetryAfter time.Duration
	// Reason is the canonical refusal reason, ReasonNone on success.
	Reason Reason
	// Message is human readable, never empty on an error response. On partial success it
	// is the OTLP partial_success.error_message.
	Message string
	// Partial reports that the pipeline rejected part of the data permanently: answer
	// success with partial_success set, because retrying would not help.
	Partial bool
}

// OK is the response to a request the pipeline accepted.
var OK = Response{HTTPStatus: http.StatusOK, Reason: ReasonNone}

// IsError reports whether the response refuses the request.
func (r Response) IsError() bool { return r.HTTPStatus != http.StatusOK }

// RetryAfterHeader is the Retry-After header value in whole seconds, or "" without a hint.
func (r Response) RetryAfterHeader() string {
	if r.RetryAfter <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(wholeSeconds(r.RetryAfter)/time.Second), 10)
}

// Refused is the answer of an admission gate that is full: 429 / RESOURCE_EXHAUSTED with a
// retry hint.
func Refused(reason Reason, msg string, retryAfter time.Duration) Response {
	return retryable(codes.ResourceExhausted, http.StatusTooManyRequests, reason, msg, retryAfter)
}

// TooLarge is the answer to a request that can never be admitted: 413 / RESOURCE_EXHAUSTED
// with no hint, since retrying the same request cannot succeed.
func TooLarge(msg string) Response {
	msg = clean(msg)
	return Response{
		HTTPStatus: http.StatusRequestEntityTooLarge,
		GRPC:       status.New(codes.ResourceExhausted, msg),
		Reason:     ReasonTooLarge,
		Message:    msg,
	}
}

// BadRequest is the answer to malformed input: 400 / INVALID_ARGUMENT, no hint.
func BadRequest(msg string) Response {
	return ClientError(http.StatusBadRequest, msg)
}

// ClientError is an HTTP-level refusal of the request itself (400, 404, 405, 415, ...).
// Its gRPC form is INVALID_ARGUMENT, which gRPC clients never see for 404/405/415.
func ClientError(httpStatus int, msg string) Response {
	msg = clean(msg)
	return Response{
		HTTPStatus: httpStatus,
		GRPC:       status.New(codes.InvalidArgument, msg),
		Reason:     ReasonInvalid,
		Message:    msg,
	}
}

func retryable(code codes.Code, httpStatus int, reason Reason, msg string, d time.Duration) Response {
	d = wholeSeconds(d)
	msg = clean(msg)
	return Response{
		HTTPStatus: httpStatus,
		GRPC:       WithRetryInfo(status.New(code, msg), d),
		RetryAfter: d,
		Reason:     reason,
		Message:    msg,
	}
}

// clean makes msg safe for a protobuf string field: error texts may quote client bytes, and
// invalid UTF-8 would make the Status body (and the gRPC status) fail to encode.
func clean(msg string) string {
	if msg == "" {
		return "request refused"
	}
	return strings.ToValidUTF8(msg, "\uFFFD")
}
