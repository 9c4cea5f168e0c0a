package sluicereceiver

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicehq/sluice/internal/otlpwire"
)

func TestCountItemsAgreesWithPdata(t *testing.T) {
	traces, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(37)).MarshalProto()
	assert.Equal(t, 37, countItems(traces, otlpwire.Spans))
	assert.Equal(t, benchSpans, countItems(benchPayload(t), otlpwire.Spans))

	logs, _ := plogotlp.NewExportRequestFromLogs(testLogs(11)).MarshalProto()
	assert.Equal(t, 11, countItems(logs, otlpwire.LogRecords))

	md := testMetrics(3) // a gauge
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ms.AppendEmpty().SetEmptySum().DataPoints().AppendEmpty()
	h := ms.AppendEmpty().SetEmptyHistogram().DataPoints()
	h.AppendEmpty()
	h.AppendEmpty()
	ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetName("no data")
	metrics, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	assert.Equal(t, md.DataPointCount(), countItems(metrics, otlpwire.DataPoints))
	assert.Equal(t, 3+1+2+1+1, md.DataPointCount())
	assert.Equal(t, pmetric.NewMetrics().DataPointCount(), countItems(nil, otlpwire.DataPoints))
}

func TestCountItemsCountsWhatItCanReadOfMalformedInput(t *testing.T) {
	valid, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	for name, body := range malformedTraces(valid) {
		assert.LessOrEqual(t, countItems(body, otlpwire.Spans), 3, name)
	}
}

func BenchmarkCountItems(b *testing.B) {
	body := benchPayload(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if countItems(body, otlpwire.Spans) != benchSpans {
			b.Fatal("miscounted")
		}
	}
}

// countItems is otlpwire.Count as the receiver uses it: what it can read, errors ignored.
func countItems(b []byte, path otlpwire.Path) int {
	n, _ := otlpwire.Count(b, path)
	return n
}

// TestCountPiecesAgreesWithCount: counting a message where gRPC's buffers split it gives
// what otlpwire.Count gives for the joined bytes, for every cut of valid, truncated and
// malformed requests.
func TestCountPiecesAgreesWithCount(t *testing.T) {
	countPieces := func(pieces mem.BufferSlice, path otlpwire.Path) (int, error) {
		m := &receivedMessage{data: pieces}
		return m.count(path)
	}
	valid := benchPayload(t)
	metrics, _ := pmetricotlp.NewExportRequestFromMetrics(testMetrics(5)).MarshalProto()
	inputs := map[string][]byte{"bench payload": valid, "metrics": metrics}
	maps.Copy(inputs, malformedTraces(valid))
	for i := 0; i < len(valid); i += 97 {
		inputs[fmt.Sprintf("truncated to %d", i)] = valid[:i]
	}
	inputs["group"] = protowire.AppendTag(protowire.AppendTag(slices.Clone(valid), 7, protowire.StartGroupType), 7, protowire.EndGroupType)
	inputs["overlong varint"] = append(slices.Clone(valid[:64]), bytes.Repeat([]byte{0xff}, 11)...)
	rnd := rand.New(rand.NewPCG(1, 2))
	for name, b := range inputs {
		for _, path := range []otlpwire.Path{otlpwire.Spans, otlpwire.DataPoints} {
			wantN, wantErr := otlpwire.Count(b, path)
			for range 50 {
				pieces := randomPieces(rnd, b)
				n, err := countPieces(pieces, path)
				require.Equal(t, wantN, n, "%s cut at %v", name, pieceLens(pieces))
				require.Equal(t, wantErr, err, "%s cut at %v", name, pieceLens(pieces))
			}
		}
	}
}

// randomPieces cuts b into buffers, some of one byte, some empty, as a received message may be.
func randomPieces(rnd *rand.Rand, b []byte) mem.BufferSlice {
	var pieces mem.BufferSlice
	for len(b) > 0 {
		n := min(len(b), []int{0, 1, 2, rnd.IntN(16), rnd.IntN(4096), 16384}[rnd.IntN(6)])
		pieces = append(pieces, mem.SliceBuffer(b[:n]))
		b = b[n:]
	}
	return pieces
}

func pieceLens(pieces mem.BufferSlice) []int {
	lens := make([]int, len(pieces))
	for i, p := range pieces {
		lens[i] = p.Len()
	}
	return lens
}

// BenchmarkCountPieces counts the bench request as gRPC receives it: 16 KiB frames.
func BenchmarkCountPieces(b *testing.B) {
	body := benchPayload(b)
	var pieces mem.BufferSlice
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 16384)
		pieces, rest = append(pieces, mem.SliceBuffer(rest[:n])), rest[n:]
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m := &receivedMessage{data: slices.Clone(pieces)}
		if m.countItems(otlpwire.Spans) != benchSpans {
			b.Fatal("miscounted")
		}
		m.free()
	}
}
