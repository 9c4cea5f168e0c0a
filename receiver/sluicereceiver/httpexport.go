package sluicereceiver

import (
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// serveHTTP is the OTLP/HTTP path for every signal. It is admitted on Content-Length before
// the body is read; a body whose real (decompressed or chunked) size is larger is
// re-admitted at that size before it is decoded.
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
	limit := s.r.cfg.Protocols.HTTP.Get().ServerConfig.MaxRequestBodySize
	if limit > 0 && req.ContentLength > limit {
		return writeStatus(w, enc, backpressure.TooLarge("request body exceeds max_request_body_size ("+itoa(limit)+" bytes)"))
	}
	n := max(req.ContentLength, 0)
	release, out := s.admitRequest(req.Context(), s.r.obsHTTP, "http", enc.format, n, nil)
	if out.IsError() {
		return writeStatus(w, enc, out)
	}
	defer func() { release() }()
	body, err := readBody(req, n, limit)
	if err != nil {
		return writeStatus(w, enc, readError(err, limit))
	}
	if real := int64(len(body)); real > n {
		release()
		if release, out = s.r.admit(req.Context(), s.name, "http", real); out.IsError() {
			release = func() {}
			return writeStatus(w, enc, out)
		}
	}
	return s.decodeAndProcess(w, req, enc, body)
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
