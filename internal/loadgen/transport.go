package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Outcome is what one attempt (one HTTP or gRPC call) came back with.
type Outcome struct {
	// Code is "ok", an HTTP status ("429") or a gRPC code name ("RESOURCE_EXHAUSTED"), or
	// "transport" when no answer came at all.
	Code string
	// Rejected items reported in partial_success of an OK answer.
	Rejected int64
	// Retryable says whether an exporter would send the same data again.
	Retryable bool
	// RetryAfter is the server's hint (Retry-After or RetryInfo), zero if none.
	RetryAfter time.Duration
	// HasHint is true when the refusal carried a hint.
	HasHint bool
	Err     error
}

// OK reports an accepted request.
func (o Outcome) OK() bool { return o.Code == "ok" }

// sender sends one encoded request.
type sender interface {
	send(ctx context.Context, signal Signal, tenant string, body []byte) Outcome
	close() error
}

// rawCodec passes pre-marshalled bytes through gRPC unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

var grpcMethods = map[Signal]string{
	Traces: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	Logs:   "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}

type grpcSender struct {
	conn      *grpc.ClientConn
	tenantKey string
	timeout   time.Duration
}

func newGRPCSender(addr, tenantKey string, timeout time.Duration) (*grpcSender, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	return &grpcSender{conn: conn, tenantKey: tenantKey, timeout: timeout}, nil
}

func (s *grpcSender) send(ctx context.Context, signal Signal, tenant string, body []byte) Outcome {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if tenant != "" && s.tenantKey != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, s.tenantKey, tenant)
	}
	var resp []byte
	err := s.conn.Invoke(ctx, grpcMethods[signal], &body, &resp, grpc.ForceCodec(rawCodec{}))
	if err == nil {
		return Outcome{Code: "ok", Rejected: rejectedItems(signal, resp)}
	}
	st, ok := status.FromError(err)
	if !ok {
		return Outcome{Code: "transport", Retryable: true, Err: err}
	}
	o := Outcome{Code: codeName(st.Code()), Err: err}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			o.RetryAfter = ri.GetRetryDelay().AsDuration()
			o.HasHint = true
		}
	}
	// The collector's otlp exporter: these codes are retried; RESOURCE_EXHAUSTED only with
	// RetryInfo (collector issue 15126).
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		o.Retryable = true
	case codes.ResourceExhausted:
		o.Retryable = o.HasHint
	}
	return o
}

func (s *grpcSender) close() error { return s.conn.Close() }

// codeName is the canonical upper-case name of a gRPC code (RESOURCE_EXHAUSTED).
func codeName(c codes.Code) string {
	var b strings.Builder
	prevLower := false
	for _, r := range c.String() {
		upper := r >= 'A' && r <= 'Z'
		if upper && prevLower {
			b.WriteByte('_')
		}
		prevLower = !upper
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func rejectedItems(signal Signal, resp []byte) int64 {
	if len(resp) == 0 {
		return 0
	}
	switch signal {
	case Traces:
		r := ptraceotlp.NewExportResponse()
		if r.UnmarshalProto(resp) == nil {
			return r.PartialSuccess().RejectedSpans()
		}
	case Logs:
		r := plogotlp.NewExportResponse()
		if r.UnmarshalProto(resp) == nil {
			return r.PartialSuccess().RejectedLogRecords()
		}
	}
	return 0
}

type httpSender struct {
	client    *http.Client
	base      string
	tenantKey string
}

func newHTTPSender(base, tenantKey string, timeout time.Duration, conns int) *httpSender {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &httpSender{
		client:    &http.Client{Transport: tr, Timeout: timeout},
		base:      strings.TrimSuffix(base, "/"),
		tenantKey: tenantKey,
	}
}

func (s *httpSender) send(ctx context.Context, signal Signal, tenant string, body []byte) Outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/"+string(signal), bytes.NewReader(body))
	if err != nil {
		return Outcome{Code: "transport", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if tenant != "" && s.tenantKey != "" {
		req.Header.Set(s.tenantKey, tenant)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Outcome{Code: "transport", Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		return Outcome{Code: "ok", Rejected: rejectedItems(signal, respBody)}
	}
	o := Outcome{Code: strconv.Itoa(resp.StatusCode), Err: fmt.Errorf("HTTP %s", resp.Status)}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil {
			o.RetryAfter, o.HasHint = time.Duration(secs)*time.Second, true
		} else if t, err := http.ParseTime(ra); err == nil {
			o.RetryAfter, o.HasHint = time.Until(t), true
		}
	}
	// The collector's otlphttp exporter retries these.
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		o.Retryable = true
	}
	return o
}

func (s *httpSender) close() error {
	s.client.CloseIdleConnections()
	return nil
}
