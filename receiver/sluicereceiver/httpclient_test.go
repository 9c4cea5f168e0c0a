package sluicereceiver

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// httpResult is a response read in full, with the OTLP Status body decoded when it is one.
type httpResult struct {
	code       int
	retryAfter string
	body       []byte
	status     *spb.Status
}

func post(t testing.TB, url, contentType string, body []byte, header map[string]string) httpResult {
	t.Helper()
	return do(t, http.MethodPost, url, contentType, body, header)
}

func do(t testing.TB, method, url, contentType string, body []byte, header map[string]string) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := httpResult{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: b}
	if resp.StatusCode != http.StatusOK {
		st := &spb.Status{}
		if resp.Header.Get("Content-Type") == "application/json" {
			require.NoError(t, protojson.Unmarshal(b, st), "JSON Status body: %s", b)
		} else {
			require.NoError(t, proto.Unmarshal(b, st), "protobuf Status body")
		}
		res.status = st
	}
	return res
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
