package sluicereceiver

import (
	"mime"
	"net/http"
	"strconv"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// encoding is one OTLP/HTTP body encoding: requests, responses and Status bodies alike.
type encoding struct {
	known       bool   // false: the request's content type is unsupported
	format      string // "protobuf" or "json", as obsreport names it
	contentType string
	unmarshal   func(exportRequest, []byte) error
	marshal     func(exportResponse) ([]byte, error)
	status      func(*spb.Status) ([]byte, error)
}

var (
	protoEncoding = &encoding{
		known: true, format: "protobuf", contentType: "application/x-protobuf",
		unmarshal: func(r exportRequest, b []byte) error { return r.UnmarshalProto(b) },
		marshal:   func(r exportResponse) ([]byte, error) { return r.MarshalProto() },
		status:    func(s *spb.Status) ([]byte, error) { return proto.Marshal(s) },
	}
	jsonEncoding = &encoding{
		known: true, format: "json", contentType: "application/json",
		unmarshal: func(r exportRequest, b []byte) error { return r.UnmarshalJSON(b) },
		marshal:   func(r exportResponse) ([]byte, error) { return r.MarshalJSON() },
		status:    func(s *spb.Status) ([]byte, error) { return protojson.Marshal(s) },
	}
	// unknownEncoding answers requests of an unsupported type in JSON, readable by anyone.
	unknownEncoding = &encoding{format: "unknown", contentType: "application/json", status: jsonEncoding.status}
)

// encodingOf picks the encoding from Content-Type, ignoring parameters such as charset.
func encodingOf(req *http.Request) *encoding {
	ct := req.Header.Get("Content-Type")
	switch ct {
	case "application/x-protobuf":
		return protoEncoding
	case "application/json":
		return jsonEncoding
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return unknownEncoding
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return protoEncoding
	case "application/json":
		return jsonEncoding
	}
	return unknownEncoding
}

// writeStatus answers an error with an OTLP Status body in the request's encoding, the
// Retry-After header when there is a hint, and returns out for recording.
func writeStatus(w http.ResponseWriter, enc *encoding, out backpressure.Response) backpressure.Response {
	st := &spb.Status{Code: int32(codes.Unknown), Message: out.Message}
	if out.GRPC != nil {
		st = out.GRPC.Proto()
	}
	body, err := enc.status(st)
	if err != nil {
		body = nil
	}
	if h := out.RetryAfterHeader(); h != "" {
		w.Header().Set("Retry-After", h)
	}
	writeBody(w, enc, out.HTTPStatus, body)
	return out
}

func writeBody(w http.ResponseWriter, enc *encoding, code int, body []byte) {
	w.Header().Set("Content-Type", enc.contentType)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
