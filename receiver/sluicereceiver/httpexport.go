package sluicereceiver

import (
	"context"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/admission"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/otlpwire"
)

// serveHTTP is the OTLP/HTTP path for every signal. The body is read first, under
// body_read_timeout, holding admitted bytes only for what has arrived (see bodyReader); the
// request takes its slot once the whole body is in, so slow or silent clients hold no slot.
func (s *signal[Req, Resp]) serveHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	enc := encodingOf(req)
	out := s.exportHTTP(w, req, enc)
	s.r.finish(req.Context(), s.name, "http", start, out)
}

func (s *signal[Req, Resp]) exportHTTP(w http.ResponseWriter, req *http.Request, enc *encoding) backpressure.Response {
	if out, ok := s.checkRequest(req, enc); !ok {
		if out.HTTPStatus == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		return writeStatus(w, enc, out)
	}
	cfg := s.r.cfg.Protocols.HTTP.Get()
	limit := cfg.ServerConfig.MaxRequestBodySize
	if limit > 0 && req.ContentLength > limit {
		return writeStatus(w, enc, tooLarge(limit))
	}
	ctx := req.Context()
	tenant := s.r.tenant(ctx)
	if out, refused := s.r.refuseUnread(tenant); refused {
		// No slot now and no waiting: refuse before paying for the body (or for anything
		// below: this is the path a flood takes).
		s.refuseOp(ctx, s.r.obsHTTP, enc.format, 0, out)
		return writeStatus(w, enc, out)
	}
	res := s.r.gate.Reserve(tenant)
	defer s.r.cancelReservation(res)
	var body []byte // once read, a refusal counts its items in receiver_refused_*
	refuse := func(reason backpressure.Reason, err error, n int64) backpressure.Response {
		out := s.r.refusal(reason, err, tenant, n)
		items := 0
		if body != nil && enc == protoEncoding {
			items, _ = otlpwire.Count(body, s.itemsPath) // what it can read of a malformed one
		}
		s.refuseOp(ctx, s.r.obsHTTP, enc.format, items, out)
		return out
	}
	clearDeadline := setBodyDeadline(w, cfg.BodyReadTimeout)
	read, out := (&bodyReader{
		ctx: ctx, body: req.Body, res: res, declared: req.ContentLength, limit: limit, ceiling: s.r.gate.MaxRequestBytes(), refuse: refuse,
		grown: func(n int64) { s.r.telemetry.SluiceReceiverInflightBytes.Add(ctx, n) },
	}).read()
	if out.IsError() {
		// The deadline stays: net/http may read on to discard the rest of the body, and
		// must not wait longer than this for it.
		if out.Reason == backpressure.ReasonBodyTimeout {
			w.Header().Set("Connection", "close")
		}
		return writeStatus(w, enc, out)
	}
	clearDeadline()
	body = read
	release, out := s.r.admitReserved(ctx, s.name, res, refuse)
	if out.IsError() {
		return writeStatus(w, enc, out)
	}
	defer release()
	return s.decodeAndProcess(w, req, enc, body)
}

// admitReserved gives a read body its slot, keeping the telemetry admit keeps.
func (r *otlpReceiver) admitReserved(ctx context.Context, sig string, res *admission.Reservation,
	refuse func(backpressure.Reason, error, int64) backpressure.Response,
) (func(), backpressure.Response) {
	start := time.Now()
	n := res.Bytes()
	rel, reason, err := res.Admit(ctx)
	r.recordWait(ctx, sig, "http", start, err)
	if err != nil {
		r.telemetry.SluiceReceiverInflightBytes.Add(ctx, -n)
		return nil, refuse(reason, err, n)
	}
	r.telemetry.SluiceReceiverInflightRequests.Add(ctx, 1)
	return func() {
		rel()
		r.telemetry.SluiceReceiverInflightRequests.Add(context.Background(), -1)
		r.telemetry.SluiceReceiverInflightBytes.Add(context.Background(), -n)
	}, backpressure.OK
}

// cancelReservation frees the bytes of a body that was not admitted.
func (r *otlpReceiver) cancelReservation(res *admission.Reservation) {
	if n := res.Cancel(); n > 0 {
		r.telemetry.SluiceReceiverInflightBytes.Add(context.Background(), -n)
	}
}

func (s *signal[Req, Resp]) decodeAndProcess(w http.ResponseWriter, req *http.Request, enc *encoding, body []byte) backpressure.Response {
	r, out := s.decode(enc, body)
	if out.IsError() {
		return writeStatus(w, enc, out)
	}
	resp := s.newResponse()
	var protoSize int64
	if enc == protoEncoding {
		protoSize = int64(len(body)) // already decompressed
	}
	out = s.process(req.Context(), s.r.obsHTTP, enc.format, r, resp, protoSize)
	if out.IsError() {
		return writeStatus(w, enc, out)
	}
	msg, err := enc.marshal(resp)
	if err != nil {
		// Cannot happen for a well-formed pdata response; no 500s, so answer like any other
		// failure after the pipeline (503 with a hint).
		return writeStatus(w, enc, backpressure.Classify(err, s.r.cfg.Admission.RetryAfter))
	}
	writeBody(w, enc, http.StatusOK, msg)
	return out
}

// checkRequest refuses a wrong method or content type before any work.
func (s *signal[Req, Resp]) checkRequest(req *http.Request, enc *encoding) (backpressure.Response, bool) {
	if req.Method != http.MethodPost {
		return backpressure.ClientError(http.StatusMethodNotAllowed, req.Method+" not allowed; OTLP/HTTP uses POST"), false
	}
	if !enc.known {
		return backpressure.ClientError(http.StatusUnsupportedMediaType,
			"unsupported content type "+req.Header.Get("Content-Type")+"; use application/x-protobuf or application/json"), false
	}
	return backpressure.OK, true
}
