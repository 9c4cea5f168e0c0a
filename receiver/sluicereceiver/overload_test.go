package sluicereceiver

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// TestOverloadIsRefusedHonestlyAndBounded sends from many more concurrent clients than there
// are slots, over both transports. Every answer is success or a refusal with a hint, the gate
// never holds more than its limits, and everything accepted reached the pipeline once.
func TestOverloadIsRefusedHonestlyAndBounded(t *testing.T) {
	const maxReq, maxBytes, senders, perSender, spansPerReq = 4, 16 << 10, 32, 15, 20
	s := &sink{hold: 2 * time.Millisecond}
	r := startReceiver(t, s, func(c *Config) {
		c.Admission.MaxInflightRequests = maxReq
		c.Admission.MaxInflightBytes = maxBytes
		c.Admission.MaxWaitingRequests = 4
		c.Admission.MaxWait = 5 * time.Millisecond
	})
	var peakReq, peakBytes atomic.Int64
	s.mu.Lock()
	s.onCall = func() {
		st := r.gate.Stats()
		storeMax(&peakReq, int64(st.Requests))
		storeMax(&peakBytes, st.Bytes)
	}
	s.mu.Unlock()

	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(spansPerReq)).MarshalProto()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for range perSender {
				if i%2 == 0 {
					res := post(t, url, "application/x-protobuf", body, nil)
					if res.code == http.StatusOK {
						accepted.Add(1)
						continue
					}
					refused.Add(1)
					assert.Equal(t, http.StatusTooManyRequests, res.code)
					assert.NotEmpty(t, res.retryAfter)
					continue
				}
				_, err := client.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(testTraces(spansPerReq)))
				if err == nil {
					accepted.Add(1)
					continue
				}
				refused.Add(1)
				st := status.Convert(err)
				assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
				_, ok := backpressure.RetryDelay(st)
				assert.True(t, ok, "RetryInfo attached")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(senders*perSender), accepted.Load()+refused.Load())
	assert.Positive(t, refused.Load(), "the flood was refused, not buffered")
	assert.Positive(t, accepted.Load())
	assert.LessOrEqual(t, peakReq.Load(), int64(maxReq))
	assert.LessOrEqual(t, peakBytes.Load(), int64(maxBytes))
	_, spans, _, _ := s.counts()
	assert.Equal(t, int(accepted.Load())*spansPerReq, spans)
	assert.Zero(t, r.gate.Stats().Requests, "every admission released")
}

func storeMax(m *atomic.Int64, v int64) {
	for cur := m.Load(); v > cur && !m.CompareAndSwap(cur, v); cur = m.Load() {
	}
}
