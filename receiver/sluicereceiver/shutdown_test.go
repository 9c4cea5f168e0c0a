package sluicereceiver

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// TestShutdownIsBoundedWhileTheNextConsumerHangs: with one request on each transport stuck
// in the pipeline, Shutdown returns after shutdown_timeout instead of waiting for them,
// whether the consumer gives up when its context ends or ignores it.
func TestShutdownIsBoundedWhileTheNextConsumerHangs(t *testing.T) {
	for name, hang := range map[string]func(ctx context.Context, never <-chan struct{}){
		"consumer ends with its context": func(ctx context.Context, _ <-chan struct{}) { <-ctx.Done() },
		"consumer ignores its context":   func(_ context.Context, never <-chan struct{}) { <-never },
	} {
		t.Run(name, func(t *testing.T) {
			never := make(chan struct{})
			entered := make(chan struct{}, 2)
			next, _ := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
				entered <- struct{}{}
				hang(ctx, never)
				return ctx.Err()
			})
			cfg := createDefaultConfig().(*Config)
			cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
			cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
			cfg.ShutdownTimeout = 200 * time.Millisecond
			tr, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, next)
			require.NoError(t, err)
			require.NoError(t, tr.Start(context.Background(), componenttest.NewNopHost()))
			r := tr.(*sharedEntry[*otlpReceiver]).value

			clients := make(chan struct{}, 2)
			go func() {
				defer func() { clients <- struct{}{} }()
				req := ptraceotlp.NewExportRequestFromTraces(testTraces(1))
				_, err := ptraceotlp.NewGRPCClient(grpcConn(t, r)).Export(context.Background(), req)
				assert.Error(t, err, "the stuck gRPC request does not succeed")
			}()
			go func() {
				defer func() { clients <- struct{}{} }()
				body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
				resp, err := http.Post("http://"+r.httpAddr.String()+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
				if err == nil {
					_ = resp.Body.Close()
					assert.NotEqual(t, http.StatusOK, resp.StatusCode)
				}
			}()
			<-entered
			<-entered

			stopped := make(chan error, 1)
			go func() { stopped <- tr.Shutdown(context.Background()) }()
			select {
			case err := <-stopped:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				t.Fatal("Shutdown did not return while the pipeline hangs")
			}
			close(never)
			<-clients
			<-clients
		})
	}
}
