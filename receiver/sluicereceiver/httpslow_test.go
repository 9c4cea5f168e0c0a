package sluicereceiver

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

// trickle opens a connection that sends the headers of a POST claiming a body of claimed
// bytes, then one byte of it, then nothing.
func trickle(t *testing.T, addr net.Addr, claimed int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = io.WriteString(conn, "POST /v1/traces HTTP/1.1\r\nHost: sluice\r\n"+
		"Content-Type: application/x-protobuf\r\nContent-Length: "+strconv.Itoa(claimed)+"\r\n\r\nx")
	require.NoError(t, err)
	return conn
}

// TestSilentBodiesHoldNoSlot: twice max_inflight_requests connections that claim a large
// body and send one byte of it hold no admission slot and only what they sent rounded up to
// one read buffer, while a well-behaved client keeps getting 200s.
func TestSilentBodiesHoldNoSlot(t *testing.T) {
	const slots = 3
	r := startReceiver(t, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = slots })
	for range 2 * slots {
		trickle(t, r.httpAddr, 1_000_000)
	}
	require.Eventually(t, func() bool { return r.gate.Stats().Bytes == 2*slots*firstChunk }, time.Minute, time.Millisecond,
		"each silent body holds one first chunk")
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(5)).MarshalProto()
	url := "http://" + r.httpAddr.String() + "/v1/traces"
	for range 3 * slots {
		res := post(t, url, "application/x-protobuf", body, nil)
		require.Equal(t, http.StatusOK, res.code, res.status.GetMessage())
	}
	assert.Zero(t, r.gate.Stats().Requests, "the silent bodies hold no slot")
}

// TestBodyNotDeliveredInTimeIsAnswered408AndClosed: a body slower than body_read_timeout
// gets 408, its connection is closed, and it counts under its own reason.
func TestBodyNotDeliveredInTimeIsAnswered408AndClosed(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Protocols.HTTP.Get().BodyReadTimeout = 300 * time.Millisecond
	}, nil)
	conn := trickle(t, r.httpAddr, 1000)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the connection is closed")
	assert.Equal(t, int64(0), r.gate.Stats().Bytes, "its bytes are released")

	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{{
		Value: 1, Attributes: attribute.NewSet(attribute.String("outcome", "refused"), attribute.String("reason", "body_timeout"),
			attribute.String("signal", "traces"), attribute.String("transport", "http")),
	}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
