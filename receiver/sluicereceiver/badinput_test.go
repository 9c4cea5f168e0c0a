package sluicereceiver

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func TestBadInputIsAClear4xxWithAStatusBody(t *testing.T) {
	r := startReceiver(t, &sink{}, func(c *Config) {
		c.Protocols.HTTP.Get().ServerConfig.MaxRequestBodySize = 64 << 10
	})
	base := "http://" + r.httpAddr.String()
	valid, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	bomb := gzipped(bytes.Repeat([]byte{0}, 10<<20)) // 10 MiB of zeros, ~10 KiB compressed
	tests := []struct {
		name, method, path, contentType string
		body                            []byte
		header                          map[string]string
		code                            int
	}{
		{"wrong method", http.MethodGet, "/v1/traces", "application/x-protobuf", nil, nil, 405},
		{"unknown path", http.MethodPost, "/v1/nothing", "application/x-protobuf", valid, nil, 404},
		{"unknown content type", http.MethodPost, "/v1/traces", "text/plain", valid, nil, 415},
		{"malformed protobuf", http.MethodPost, "/v1/traces", "application/x-protobuf", []byte{0xff, 0xff, 0xff}, nil, 400},
		{"malformed JSON", http.MethodPost, "/v1/metrics", "application/json", []byte(`{"resourceMetrics": [`), nil, 400},
		{"JSON of the wrong shape", http.MethodPost, "/v1/logs", "application/json", []byte(`{"resourceLogs": 7}`), nil, 400},
		{"body over max_request_body_size", http.MethodPost, "/v1/traces", "application/x-protobuf", make([]byte, 65<<10), nil, 413},
		{"decompression bomb", http.MethodPost, "/v1/traces", "application/x-protobuf", bomb, map[string]string{"Content-Encoding": "gzip"}, 413},
		{"corrupt gzip", http.MethodPost, "/v1/traces", "application/x-protobuf", []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"}, 400},
		{"unknown content encoding", http.MethodPost, "/v1/traces", "application/x-protobuf", valid, map[string]string{"Content-Encoding": "br0tli"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, base+tt.path, tt.contentType, tt.body, tt.header)
			assert.Equal(t, tt.code, res.code, "body: %s", res.body)
			if assert.NotNil(t, res.status) {
				assert.NotEmpty(t, res.status.GetMessage())
			}
			assert.Empty(t, res.retryAfter, "bad input is not worth retrying")
		})
	}
}
