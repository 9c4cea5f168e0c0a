package sluicereceiver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sluicehq/sluice/internal/admission"
	"github.com/sluicehq/sluice/internal/backpressure"
)

// firstChunk is the most room a body gets before more than one byte of it has arrived.
const firstChunk = 64 << 10

// bodyReader reads one request body under the body deadline into a buffer that grows only as
// bytes arrive, reserving every byte of room in the admission gate before allocating it. So
// the bytes admitted are the memory held, whatever Content-Length claims or the compression
// ratio, and a client that sends nothing holds one small buffer and no slot.
type bodyReader struct {
	ctx      context.Context
	body     io.Reader
	res      *admission.Reservation
	declared int64 // Content-Length, or <= 0 when unknown (chunked)
	limit    int64 // max_request_body_size, or 0
	ceiling  int64 // the most the gate lets one request hold, or 0
	refuse   func(backpressure.Reason, error, int64) backpressure.Response
	grown    func(int64) // reports reserved bytes to telemetry
}

// read returns the body, or the response owed when it is too large, too slow, malformed or
// does not fit in the gate.
func (b *bodyReader) read() ([]byte, backpressure.Response) {
	var buf []byte
	var probe [1]byte
	for {
		if len(buf) < cap(buf) {
			n, err := b.body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if done, out := b.ended(err); done {
				return buf, out
			}
			continue
		}
		// Full, or not started: wait for one more byte before paying for more room.
		n, err := b.body.Read(probe[:])
		if n > 0 {
			var out backpressure.Response
			if buf, out = b.grow(buf); out.IsError() {
				return nil, out
			}
			buf = append(buf, probe[0])
		}
		if done, out := b.ended(err); done {
			return buf, out
		}
	}
}

func (b *bodyReader) ended(err error) (bool, backpressure.Response) {
	switch {
	case err == nil:
		return false, backpressure.OK
	case errors.Is(err, io.EOF):
		return true, backpressure.OK
	}
	return true, bodyError(err, b.limit)
}

// grow makes room for at least one more byte: the first chunk, then doubling, towards the
// declared length when it is known and never past the limit.
func (b *bodyReader) grow(buf []byte) ([]byte, backpressure.Response) {
	have := int64(cap(buf))
	if b.limit > 0 && have >= b.limit {
		return nil, tooLarge(b.limit)
	}
	next := max(2*have, firstChunk)
	if b.declared > have {
		next = min(next, b.declared)
	}
	if b.limit > 0 {
		next = min(next, b.limit)
	}
	if b.ceiling > 0 {
		// Doubling must not overshoot what the gate could ever admit; a body past it is
		// refused by Grow as too large.
		next = min(next, max(b.ceiling, have+1))
	}
	if reason, err := b.res.Grow(b.ctx, next-have); err != nil {
		return nil, b.refuse(reason, err, b.res.Bytes()+next-have)
	}
	b.grown(next - have)
	grown := make([]byte, len(buf), next)
	copy(grown, buf)
	return grown, backpressure.OK
}

// bodyError maps a failure to read the body to the contract: over the limit is 413, a body
// that did not arrive in time its own refusal, a corrupt compressed stream 400.
func bodyError(err error, limit int64) backpressure.Response {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	if ne, ok := errors.AsType[net.Error](err); errors.Is(err, os.ErrDeadlineExceeded) || ok && ne.Timeout() {
		out := backpressure.ClientError(http.StatusRequestTimeout,
			"request body not received within protocols.http.body_read_timeout")
		out.Reason = backpressure.ReasonBodyTimeout
		return out
	}
	return backpressure.BadRequest("reading request body: " + err.Error())
}

func tooLarge(limit int64) backpressure.Response {
	return backpressure.TooLarge("request body exceeds max_request_body_size (" + itoa(limit) + " bytes)")
}

// setBodyDeadline bounds the body read. Without support from the connection (some
// middleware hides it) the body is read without a bound rather than refused.
func setBodyDeadline(w http.ResponseWriter, d time.Duration) func() {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return func() {}
	}
	return func() { _ = rc.SetReadDeadline(time.Time{}) }
}
