package sluicereceiver

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var fuzzSignals = []string{"traces", "metrics", "logs"}

// FuzzGRPCExport sends arbitrary bytes as the Export request of each signal over a real
// connection: the answer is OK or INVALID_ARGUMENT with a message, never INTERNAL, and the
// receiver releases what it admitted and keeps serving. The corpus in
// testdata/fuzz/FuzzGRPCExport holds the malformed inputs of
// TestGRPCMalformedRequestsAreInvalidArgumentAndTheReceiverKeepsServing.
func FuzzGRPCExport(f *testing.F) {
	tp, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(2)).MarshalProto()
	mp, _ := pmetricotlp.NewExportRequestFromMetrics(testMetrics(2)).MarshalProto()
	lp, _ := plogotlp.NewExportRequestFromLogs(testLogs(2)).MarshalProto()
	for i, body := range [][]byte{tp, mp, lp} {
		f.Add(uint8(i), body)
	}
	f.Add(uint8(0), []byte(nil))
	r := startReceiver(f, &sink{}, nil)
	cc := grpcConn(f, r)
	f.Fuzz(func(t *testing.T, signal uint8, body []byte) {
		st := status.Convert(exportRaw(t.Context(), cc, fuzzSignals[int(signal)%len(fuzzSignals)], body))
		switch st.Code() {
		case codes.OK:
		case codes.InvalidArgument:
			if st.Message() == "" {
				t.Fatal("INVALID_ARGUMENT without a message")
			}
		default:
			t.Fatalf("unexpected answer %v: %s", st.Code(), st.Message())
		}
		if s := r.gate.Stats(); s.Requests != 0 || s.Bytes != 0 {
			t.Fatalf("admission leaked: %+v", s)
		}
	})
}
