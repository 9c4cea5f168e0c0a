package sluicereceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func grpcConn(t testing.TB, r *otlpReceiver) *grpc.ClientConn {
	t.Helper()
	return grpcConnAddr(t, r.grpcAddr.String())
}

func grpcConnAddr(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func TestAcceptsEverySignalOnBothTransportsAndEncodings(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s, nil)
	ctx := context.Background()
	cc := grpcConn(t, r)
	_, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(2)))
	require.NoError(t, err)
	_, err = pmetricotlp.NewGRPCClient(cc).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(testMetrics(3)))
	require.NoError(t, err)
	_, err = plogotlp.NewGRPCClient(cc).Export(ctx, plogotlp.NewExportRequestFromLogs(testLogs(4)))
	require.NoError(t, err)

	base := "http://" + r.httpAddr.String()
	tp, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(2)).MarshalProto()
	tj, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(2)).MarshalJSON()
	mp, _ := pmetricotlp.NewExportRequestFromMetrics(testMetrics(3)).MarshalProto()
	lj, _ := plogotlp.NewExportRequestFromLogs(testLogs(4)).MarshalJSON()
	for _, c := range []struct {
		path, ct string
		body     []byte
		header   map[string]string
	}{
		{"/v1/traces", "application/x-protobuf", tp, nil},
		{"/v1/traces", "application/json; charset=utf-8", tj, nil},
		{"/v1/traces", "application/x-protobuf", gzipped(tp), map[string]string{"Content-Encoding": "gzip"}},
		{"/v1/metrics", "application/x-protobuf", mp, nil},
		{"/v1/logs", "application/json", lj, nil},
	} {
		res := post(t, base+c.path, c.ct, c.body, c.header)
		require.Equal(t, http.StatusOK, res.code, "%s %s: %s", c.path, c.ct, res.body)
	}
	_, spans, points, records := s.counts()
	assert.Equal(t, 2+6, spans)
	assert.Equal(t, 3+3, points)
	assert.Equal(t, 4+4, records)
	assert.Equal(t, 0, r.gate.Stats().Requests, "every admission released")
}

// TestDownstreamErrorsFollowTheContractOnBothTransports sends through a pipeline that fails
// in each shape and checks what each transport's client sees.
func TestDownstreamErrorsFollowTheContractOnBothTransports(t *testing.T) {
	plain := errors.New("memory_limiter: data refused")
	tests := []struct {
		name       string
		err        error
		httpCode   int
		grpcCode   codes.Code
		retryAfter string
		partial    int64
	}{
		{"QueueFull", backpressure.QueueFull("lane traces full", 5*time.Second), 429, codes.ResourceExhausted, "5", 0},
		{"Unavailable", backpressure.Unavailable("breaker open", 4*time.Second), 503, codes.Unavailable, "4", 0},
		{"Invalid", backpressure.Invalid("bad column"), 400, codes.InvalidArgument, "", 0},
		{"plain error", plain, 503, codes.Unavailable, "2", 0},
		{"status without hint", status.Error(codes.ResourceExhausted, "full"), 429, codes.ResourceExhausted, "2", 0},
		{"NewOTLPHTTPError 429", consumererror.NewOTLPHTTPError(plain, 429), 429, codes.ResourceExhausted, "2", 0},
		{"retryable", consumererror.NewRetryableError(plain), 503, codes.Unavailable, "2", 0},
		{"joined", errors.Join(backpressure.Invalid("bad"), backpressure.QueueFull("full", 3*time.Second)), 429, codes.ResourceExhausted, "3", 0},
		{"permanent partial", consumererror.NewPermanent(consumererror.NewTraces(plain, testTraces(2))), 200, codes.OK, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{script: []error{tt.err, tt.err}}
			r := startReceiver(t, s, func(c *Config) { c.Admission.RetryAfter = 2 * time.Second })
			body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(5)).MarshalProto()
			res := post(t, "http://"+r.httpAddr.String()+"/v1/traces", "application/x-protobuf", body, nil)
			assert.Equal(t, tt.httpCode, res.code)
			assert.Equal(t, tt.retryAfter, res.retryAfter)
			if tt.httpCode != 200 {
				assert.Equal(t, int32(tt.grpcCode), res.status.GetCode())
				assert.NotEmpty(t, res.status.GetMessage())
			} else {
				resp := ptraceotlp.NewExportResponse()
				require.NoError(t, resp.UnmarshalProto(res.body))
				assert.Equal(t, tt.partial, resp.PartialSuccess().RejectedSpans())
				assert.NotEmpty(t, resp.PartialSuccess().ErrorMessage())
			}

			resp, err := ptraceotlp.NewGRPCClient(grpcConn(t, r)).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(testTraces(5)))
			st := status.Convert(err)
			assert.Equal(t, tt.grpcCode, st.Code())
			d, hasHint := backpressure.RetryDelay(st)
			assert.Equal(t, tt.retryAfter != "", hasHint)
			if hasHint {
				assert.Equal(t, tt.retryAfter, fmt.Sprint(int(d.Seconds())))
			}
			if err == nil {
				assert.Equal(t, tt.partial, resp.PartialSuccess().RejectedSpans())
			} else {
				assert.NotEmpty(t, st.Message())
			}
		})
	}
}

// TestAdmissionRefusesWith429AndResourceExhaustedWithAHint holds the only slot and checks
// the next request on each transport is refused with a hint, and a request too large for
// the gate is refused without one.
func TestAdmissionRefusesWith429AndResourceExhaustedWithAHint(t *testing.T) {
	entered, leave := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s := &sink{onCall: func() { once.Do(func() { close(entered); <-leave }) }}
	r := startReceiver(t, s, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
		c.Admission.MaxInflightBytes = 4096
		c.Admission.RetryAfter = 3 * time.Second
	})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	go post(t, url, "application/x-protobuf", body, nil)
	<-entered

	res := post(t, url, "application/json", []byte(`{}`), nil)
	assert.Equal(t, http.StatusTooManyRequests, res.code)
	assert.Equal(t, "3", res.retryAfter)
	assert.Equal(t, int32(codes.ResourceExhausted), res.status.GetCode())
	assert.Contains(t, res.status.GetMessage(), "max_inflight_requests")

	_, err := ptraceotlp.NewGRPCClient(grpcConn(t, r)).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(testTraces(1)))
	st := status.Convert(err)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	d, ok := backpressure.RetryDelay(st)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)
	close(leave)

	big, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(200)).MarshalProto()
	res = post(t, url, "application/x-protobuf", big, nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.code)
	assert.Empty(t, res.retryAfter)
	assert.Contains(t, res.status.GetMessage(), "can never be admitted")
}
