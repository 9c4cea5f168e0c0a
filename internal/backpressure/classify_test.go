package backpressure

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const fallback = 2 * time.Second

func TestClassifyMapsEveryErrorShapeForBothTransports(t *testing.T) {
	plain := errors.New("memory_limiter: data refused")
	exhausted := WithRetryInfo(status.New(codes.ResourceExhausted, "lane full"), 5*time.Second)
	tests := []struct {
		name       string
		err        error
		httpStatus int
		grpcCode   codes.Code // codes.OK means "no gRPC error"
		retryAfter string     // Retry-After header and RetryInfo, "" for none
		reason     Reason
		partial    bool
	}{
		{"nil", nil, 200, codes.OK, "", ReasonNone, false},
		{"plain error", plain, 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"wrapped plain error", fmt.Errorf("processor: %w", plain), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"QueueFull", QueueFull("lane full", 5*time.Second), 429, codes.ResourceExhausted, "5", ReasonDownstreamBackpressure, false},
		{"QueueFull sub-second hint rounds up", QueueFull("lane full", 10*time.Millisecond), 429, codes.ResourceExhausted, "1", ReasonDownstreamBackpressure, false},
		{"Unavailable", Unavailable("breaker open", 7*time.Second), 503, codes.Unavailable, "7", ReasonDownstreamUnavailable, false},
		{"Invalid", Invalid("bad column type"), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"bare status with RetryInfo", exhausted.Err(), 429, codes.ResourceExhausted, "5", ReasonDownstreamBackpressure, false},
		{"status without RetryInfo gets the fallback", status.Error(codes.ResourceExhausted, "full"), 429, codes.ResourceExhausted, "2", ReasonDownstreamBackpressure, false},
		{"status wrapped by fmt.Errorf", fmt.Errorf("export: %w", exhausted.Err()), 429, codes.ResourceExhausted, "5", ReasonDownstreamBackpressure, false},
		{"status Unavailable", status.Error(codes.Unavailable, "down"), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"status DeadlineExceeded", status.Error(codes.DeadlineExceeded, "slow"), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"status Internal is no 500", status.Error(codes.Internal, "bug"), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"status InvalidArgument", status.Error(codes.InvalidArgument, "bad"), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"status with empty message", status.Error(codes.Unavailable, ""), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"NewOTLPGRPCError with original error", consumererror.NewOTLPGRPCError(plain, exhausted), 429, codes.ResourceExhausted, "5", ReasonDownstreamBackpressure, false},
		{"NewOTLPGRPCError nil status", consumererror.NewOTLPGRPCError(plain, nil), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"NewOTLPHTTPError 429 stays 429", consumererror.NewOTLPHTTPError(plain, http.StatusTooManyRequests), 429, codes.ResourceExhausted, "2", ReasonDownstreamBackpressure, false},
		{"NewOTLPHTTPError 503", consumererror.NewOTLPHTTPError(plain, http.StatusServiceUnavailable), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"NewOTLPHTTPError 400", consumererror.NewOTLPHTTPError(plain, http.StatusBadRequest), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"NewOTLPHTTPError 500 is no 500", consumererror.NewOTLPHTTPError(plain, http.StatusInternalServerError), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"NewRetryableError", consumererror.NewRetryableError(plain), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"permanent", consumererror.NewPermanent(plain), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"permanent wrapping a retryable status", consumererror.NewPermanent(exhausted.Err()), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"partial traces, retryable", consumererror.NewTraces(plain, ptrace.NewTraces()), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"partial metrics wrapping QueueFull", consumererror.NewMetrics(QueueFull("full", 3*time.Second), pmetric.NewMetrics()), 429, codes.ResourceExhausted, "3", ReasonDownstreamBackpressure, false},
		{"partial logs, permanent", consumererror.NewPermanent(consumererror.NewLogs(plain, plog.NewLogs())), 200, codes.OK, "", ReasonDownstreamInvalid, true},
		{"join: backpressure beats invalid", errors.Join(Invalid("bad"), QueueFull("full", 4*time.Second)), 429, codes.ResourceExhausted, "4", ReasonDownstreamBackpressure, false},
		{"join: unavailable beats invalid", errors.Join(consumererror.NewPermanent(plain), plain), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"join: invalid beats partial", errors.Join(consumererror.NewPermanent(consumererror.NewLogs(plain, plog.NewLogs())), Invalid("bad")), 400, codes.InvalidArgument, "", ReasonDownstreamInvalid, false},
		{"join with nil parts", errors.Join(nil, plain), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
		{"empty message", errors.New(""), 503, codes.Unavailable, "2", ReasonDownstreamUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Classify(tt.err, fallback)
			assert.Equal(t, tt.httpStatus, r.HTTPStatus, "HTTP status")
			assert.Equal(t, tt.reason, r.Reason)
			assert.Equal(t, tt.partial, r.Partial)
			assert.Equal(t, tt.retryAfter, r.RetryAfterHeader(), "Retry-After")
			if tt.grpcCode == codes.OK {
				assert.Nil(t, r.GRPC)
				return
			}
			assert.Equal(t, tt.grpcCode, r.GRPC.Code(), "gRPC code")
			assert.NotEmpty(t, r.GRPC.Message(), "gRPC message")
			assert.Equal(t, r.Message, r.GRPC.Message())
			d, ok := RetryDelay(r.GRPC)
			assert.Equal(t, tt.retryAfter != "", ok, "RetryInfo present")
			if ok {
				assert.Equal(t, tt.retryAfter, fmt.Sprint(int(d/time.Second)), "RetryInfo delay")
			}
		})
	}
}

func TestClassifyKeepsTheDownstreamMessage(t *testing.T) {
	r := Classify(QueueFull("lane traces/acme full: 1000 rows queued", time.Second), fallback)
	assert.Equal(t, "lane traces/acme full: 1000 rows queued", r.Message)
}

func TestConstructorsAreUnderstoodByTheCoreReceiverShape(t *testing.T) {
	// The core otlp receiver only looks for a gRPC status in the chain (status.FromError).
	for _, err := range []error{QueueFull("q", time.Second), Unavailable("u", time.Second), Invalid("i")} {
		st, ok := status.FromError(err)
		assert.True(t, ok, "%v", err)
		assert.NotEqual(t, codes.Unknown, st.Code())
	}
	assert.True(t, consumererror.IsPermanent(Invalid("i")))
	assert.False(t, consumererror.IsPermanent(QueueFull("q", time.Second)))
}

func TestReceiverRefusals(t *testing.T) {
	r := Refused(ReasonOverloaded, "too many requests in flight", 3*time.Second)
	assert.Equal(t, 429, r.HTTPStatus)
	assert.Equal(t, codes.ResourceExhausted, r.GRPC.Code())
	assert.Equal(t, "3", r.RetryAfterHeader())
	tl := TooLarge("request of 10 MiB exceeds max_inflight_bytes")
	assert.Equal(t, 413, tl.HTTPStatus)
	assert.Equal(t, codes.ResourceExhausted, tl.GRPC.Code())
	assert.Empty(t, tl.RetryAfterHeader())
	_, hasHint := RetryDelay(tl.GRPC)
	assert.False(t, hasHint)
}
