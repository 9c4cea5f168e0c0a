package sluicereceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/sluicehq/sluice/internal/admission"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/otlpwire"
	"github.com/sluicehq/sluice/internal/tenant"
)

// admit passes a request of n decoded bytes through the gate. On refusal it returns the
// response owed to the client and a nil release.
func (r *otlpReceiver) admit(ctx context.Context, sig, transport string, n int64) (func(), backpressure.Response) {
	tenant := r.tenant(ctx)
	start := time.Now()
	rel, reason, err := r.gate.Acquire(ctx, tenant, n)
	r.recordWait(ctx, sig, transport, start, err)
	if err != nil {
		return nil, r.refusal(reason, err, tenant, n)
	}
	r.telemetry.SluiceReceiverInflightRequests.Add(ctx, 1)
	r.telemetry.SluiceReceiverInflightBytes.Add(ctx, n)
	return func() {
		rel()
		r.telemetry.SluiceReceiverInflightRequests.Add(context.Background(), -1)
		r.telemetry.SluiceReceiverInflightBytes.Add(context.Background(), -n)
	}, backpressure.OK
}

// recordWait records how long an admission took, for requests admitted and for those
// refused after waiting in the queue; one refused at once did not wait, like one refused
// before its body was read, and is not recorded (a flood of zeros would only hide the
// waits).
func (r *otlpReceiver) recordWait(ctx context.Context, sig, transport string, start time.Time, err error) {
	if err != nil && !errors.Is(err, admission.ErrGaveUp) {
		return
	}
	r.telemetry.SluiceReceiverAdmissionWaitDuration.Record(ctx, time.Since(start).Seconds(), r.attrs.route[routeKey{sig, transport}]...)
}

// refusal words the gate's answer for the client, naming the setting that refused it.
func (r *otlpReceiver) refusal(reason backpressure.Reason, err error, tenant string, n int64) backpressure.Response {
	a := r.cfg.Admission
	switch reason {
	case backpressure.ReasonTooLarge:
		return backpressure.TooLarge(fmt.Sprintf(
			"request of %d bytes can never be admitted: over admission.max_inflight_bytes (%d) or the tenant share of it", n, a.MaxInflightBytes))
	case backpressure.ReasonInflightBytes:
		return r.overBytes
	case backpressure.ReasonTenantShare:
		return backpressure.Refused(backpressure.ReasonTenantShare, fmt.Sprintf(
			"tenant %q is over its share (admission.tenant.max_share %v)", tenant, a.Tenant.MaxShare), a.RetryAfter)
	}
	if errors.Is(err, admission.ErrQueueFull) {
		return r.overWaiting
	}
	return r.overRequests
}

// prebuiltRefusals builds the refusals a flood produces once, so refusing costs no
// formatting and no status construction.
func prebuiltRefusals(a AdmissionConfig) (overRequests, overBytes, overWaiting backpressure.Response) {
	overRequests = backpressure.Refused(backpressure.ReasonOverloaded, fmt.Sprintf(
		"receiver overloaded: admission.max_inflight_requests (%d) in flight", a.MaxInflightRequests), a.RetryAfter)
	overBytes = backpressure.Refused(backpressure.ReasonInflightBytes, fmt.Sprintf(
		"receiver overloaded: admission.max_inflight_bytes (%d) in flight", a.MaxInflightBytes), a.RetryAfter)
	overWaiting = backpressure.Refused(backpressure.ReasonOverloaded, fmt.Sprintf(
		"receiver overloaded: admission.max_waiting_requests (%d) already waiting", a.MaxWaitingRequests), a.RetryAfter)
	return overRequests, overBytes, overWaiting
}

// refuseUnread is the refusal owed to a request of tenant that has not been read yet, when
// the gate has no room for it now and it could not wait: any size would be refused, so
// the transport refuses before paying for the body. Nothing is taken from the gate.
func (r *otlpReceiver) refuseUnread(tenant string) (backpressure.Response, bool) {
	reason, err := r.gate.Peek(tenant)
	if err == nil {
		return backpressure.OK, false
	}
	return r.refusal(reason, err, tenant, 0), true
}

// tenant reads the tenant key from client metadata (needs include_metadata: true).
func (r *otlpReceiver) tenant(ctx context.Context) string {
	return tenant.FromContext(ctx, r.cfg.Admission.Tenant.MetadataKey)
}

// admitRequest is the admission step of both transports: it weighs a request of n decoded
// bytes and, on refusal, counts it in the standard obsreport metrics with the items of the
// body (counted on the wire, never decoded; countItems is nil when the body is not read
// yet, and then none are counted). The transport only writes the answer.
func (s *signal[Req, Resp]) admitRequest(ctx context.Context, obs *receiverhelper.ObsReport, transport, format string, n int64, countItems func(otlpwire.Path) int) (func(), backpressure.Response) {
	release, out := s.r.admit(ctx, s.name, transport, n)
	if out.IsError() {
		items := 0
		if countItems != nil {
			items = countItems(s.itemsPath)
		}
		s.refuseOp(ctx, obs, format, items, out)
	}
	return release, out
}
