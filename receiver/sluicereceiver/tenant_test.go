package sluicereceiver

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestTenantOverItsShareIsRefusedWhileOthersAreAdmitted: with two slots and a half share,
// a tenant holding one slot is refused a second while another tenant gets in.
func TestTenantOverItsShareIsRefusedWhileOthersAreAdmitted(t *testing.T) {
	entered, leave := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	s := &sink{onCall: func() {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-leave
		}
	}}
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
