package sluicereceiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// handlerOnly builds a receiver's HTTP handler without listening, for fuzzing and benchmarks.
func handlerOnly(t testing.TB, s *sink, mutate func(*Config)) (*otlpReceiver, http.Handler) {
	t.Helper()
	return handlerWith(t, receivertest.NewNopSettings(metadata.Type), s, mutate)
}

func handlerWith(t testing.TB, set receiver.Settings, s *sink, mutate func(*Config)) (*otlpReceiver, http.Handler) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.MaxRequestBodySize = 1 << 20
	if mutate != nil {
		mutate(cfg)
	}
	r, err := newReceiver(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	r.traces, r.metrics, r.logs = newTracesSignal(r, s.traces()), newMetricsSignal(r, s.metrics()), newLogsSignal(r, s.logs())
	return r, r.httpHandler()
}

var (
	fuzzPaths        = []string{"/v1/traces", "/v1/metrics", "/v1/logs", "/v1/other"}
	fuzzContentTypes = []string{"application/x-protobuf", "application/json", "application/json; charset=utf-8", "text/plain", ""}
)

// FuzzHTTPHandler feeds arbitrary bodies to every path and content type: the handler must
// never panic, never answer 5xx, and always release what it admitted.
func FuzzHTTPHandler(f *testing.F) {
	tp, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(2)).MarshalProto()
	tj, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(2)).MarshalJSON()
	mp, _ := pmetricotlp.NewExportRequestFromMetrics(testMetrics(2)).MarshalProto()
	mj, _ := pmetricotlp.NewExportRequestFromMetrics(testMetrics(2)).MarshalJSON()
	lp, _ := plogotlp.NewExportRequestFromLogs(testLogs(2)).MarshalProto()
	lj, _ := plogotlp.NewExportRequestFromLogs(testLogs(2)).MarshalJSON()
	for _, seed := range []struct {
		path, ct uint8
		body     []byte
	}{{0, 0, tp}, {0, 1, tj}, {1, 0, mp}, {1, 2, mj}, {2, 0, lp}, {2, 1, lj}, {0, 0, nil}, {3, 3, []byte("x")}, {0, 1, []byte(`{"resourceSpans":[{}]}`)}} {
		f.Add(seed.path, seed.ct, seed.body)
	}
	r, h := handlerOnly(f, &sink{}, nil)
	f.Fuzz(func(t *testing.T, path, ct uint8, body []byte) {
		req := httptest.NewRequest(http.MethodPost, fuzzPaths[int(path)%len(fuzzPaths)], bytes.NewReader(body))
		req.Header.Set("Content-Type", fuzzContentTypes[int(ct)%len(fuzzContentTypes)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusOK && rec.Body.Len() == 0 {
			t.Fatalf("status %d without a Status body", rec.Code)
		}
		if st := r.gate.Stats(); st.Requests != 0 || st.Bytes != 0 {
			t.Fatalf("admission leaked: %+v", st)
		}
	})
}
