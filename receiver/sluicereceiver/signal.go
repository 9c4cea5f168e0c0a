package sluicereceiver

import (
	"context"

	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/internal/otlpwire"
	"github.com/sluicehq/sluice/internal/reqsize"
)

// exportRequest is what the pdata ptraceotlp/pmetricotlp/plogotlp request types share.
type exportRequest interface {
	UnmarshalProto(data []byte) error
	UnmarshalJSON(data []byte) error
}

// exportResponse is what their response types share.
type exportResponse interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// signal is everything that differs between traces, metrics and logs, as data, so the
// request path below exists once. Each signal file fills one in.
type signal[Req exportRequest, Resp exportResponse] struct {
	r           *otlpReceiver
	name        string // canonical lowercase, the metric attribute value
	newRequest  func() Req
	newResponse func() Resp
	items       func(Req) int
	consume     func(context.Context, Req) error
	// setPartial records a partial success: rejected items and why.
	setPartial func(resp Resp, rejected int64, msg string)
	// rejected counts the items in a partial-data error.
	rejected func(err error) int64
	startOp  func(*receiverhelper.ObsReport, context.Context) context.Context
	endOp    func(*receiverhelper.ObsReport, context.Context, string, int, error)
	// itemsPath is where the items sit in the serialized request (see otlpwire.Count).
	itemsPath otlpwire.Path
	// decoder reads a body into a request; nil means the encoding's own. Tests replace it
	// to see what gets decoded.
	decoder func(enc *encoding, req Req, body []byte) error
}

// process hands an admitted request to the pipeline and decides the response. protoSize is
// the request's protobuf size when the transport knows it (0 otherwise); it rides along in
// the context so the exporter need not measure the request again (see internal/reqsize).
func (s *signal[Req, Resp]) process(ctx context.Context, obs *receiverhelper.ObsReport, format string, req Req, resp Resp, protoSize int64) backpressure.Response {
	n := s.items(req)
	if protoSize > 0 {
		ctx = reqsize.NewContext(ctx, reqsize.Size{Items: n, Bytes: int(protoSize)})
	}
	opCtx := s.startOp(obs, ctx)
	err := s.consume(opCtx, req)
	s.endOp(obs, opCtx, format, n, err)
	out := backpressure.Classify(err, s.r.cfg.Admission.RetryAfter)
	if out.Partial {
		rejected := s.rejected(err)
		if rejected <= 0 || rejected > int64(n) {
			// The pipeline did not say how much; report all, since none is known to be kept.
			rejected = int64(n)
		}
		s.setPartial(resp, rejected, out.Message)
	}
	return out
}

// refuseOp records items refused before reaching the pipeline in the standard obsreport
// metrics, so receiver_refused_* counts them like the core receiver would. It returns the
// refusal's gRPC error (each Err makes a new one).
func (s *signal[Req, Resp]) refuseOp(ctx context.Context, obs *receiverhelper.ObsReport, format string, items int, out backpressure.Response) error {
	err := out.GRPC.Err()
	opCtx := s.startOp(obs, ctx)
	s.endOp(obs, opCtx, format, items, err)
	return err
}
