package sluicereceiver

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sluicehq/sluice/internal/admission"
	"github.com/sluicehq/sluice/internal/backpressure"
)

// firstCallHolds returns a sink whose first call closes entered and returns once leave is
// closed; later calls go straight through.
func firstCallHolds() (s *sink, entered, leave chan struct{}) {
	entered, leave = make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	s = &sink{onCall: func() {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-leave
		}
	}}
	return s, entered, leave
}

// TestTenantOverItsShareIsRefusedWhileOthersAreAdmitted: with two slots and a half share,
// a tenant holding one slot is refused a second while another tenant gets in.
func TestTenantOverItsShareIsRefusedWhileOthersAreAdmitted(t *testing.T) {
	s, entered, leave := firstCallHolds()
	r := startReceiver(t, s, func(c *Config) {
		c.Protocols.HTTP.Get().ServerConfig.IncludeMetadata = true
		c.Admission.MaxInflightRequests = 2
		c.Admission.Tenant = TenantConfig{MetadataKey: "X-Scope-OrgID", MaxShare: 0.5, MaxTenants: 10}
	})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	greedy := map[string]string{"X-Scope-OrgID": "greedy"}
	done := make(chan struct{})
	go func() { post(t, url, "application/x-protobuf", body, greedy); close(done) }()
	<-entered

	res := post(t, url, "application/x-protobuf", body, greedy)
	assert.Equal(t, http.StatusTooManyRequests, res.code)
	assert.Contains(t, res.status.GetMessage(), `tenant "greedy" is over its share`)
	assert.Equal(t, "1", res.retryAfter)

	res = post(t, url, "application/x-protobuf", body, map[string]string{"X-Scope-OrgID": "quiet"})
	assert.Equal(t, http.StatusOK, res.code)
	close(leave)
	<-done
}

// TestTenantWaitingForItsShareLeavesTheQueueToOthers: with waiting enabled, a tenant's
// requests queued behind its own share take none of max_waiting_requests, so another tenant
// that fits is admitted at once, and the greedy tenant is refused naming its share.
func TestTenantWaitingForItsShareLeavesTheQueueToOthers(t *testing.T) {
	s, entered, leave := firstCallHolds()
	r := startReceiver(t, s, func(c *Config) {
		c.Protocols.HTTP.Get().ServerConfig.IncludeMetadata = true
		c.Admission.MaxInflightRequests = 2
		c.Admission.MaxWaitingRequests = 1
		c.Admission.MaxWait = time.Minute
		c.Admission.Tenant = TenantConfig{MetadataKey: "X-Scope-OrgID", MaxShare: 0.5, MaxTenants: 10}
	})
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	greedy := map[string]string{"X-Scope-OrgID": "greedy"}
	codes := make(chan int, 2)
	go func() { codes <- post(t, url, "application/x-protobuf", body, greedy).code }()
	<-entered
	go func() { codes <- post(t, url, "application/x-protobuf", body, greedy).code }()
	require.Eventually(t, func() bool { return r.gate.Stats().Waiting == 1 }, time.Minute, time.Millisecond)

	res := post(t, url, "application/x-protobuf", body, greedy)
	assert.Equal(t, http.StatusTooManyRequests, res.code)
	assert.Contains(t, res.status.GetMessage(), "admission.tenant.max_share")

	res = post(t, url, "application/x-protobuf", body, map[string]string{"X-Scope-OrgID": "quiet"})
	assert.Equal(t, http.StatusOK, res.code, res.status.GetMessage())
	close(leave)
	assert.Equal(t, http.StatusOK, <-codes)
	assert.Equal(t, http.StatusOK, <-codes)
}

// TestQueueFullRefusalNamesTheQueue: a refusal because max_waiting_requests already wait
// says so, instead of blaming a limit the request may not have reached.
func TestQueueFullRefusalNamesTheQueue(t *testing.T) {
	r := startReceiver(t, &sink{}, func(c *Config) { c.Admission.MaxWaitingRequests = 3 })
	out := r.refusal(backpressure.ReasonOverloaded, admission.ErrQueueFull, "", 0)
	assert.Equal(t, http.StatusTooManyRequests, out.HTTPStatus)
	assert.Contains(t, out.Message, "admission.max_waiting_requests (3) already waiting")
}
