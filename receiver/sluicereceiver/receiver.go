package sluicereceiver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"github.com/sluicehq/sluice/internal/admission"
	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// otlpReceiver serves OTLP over gRPC and HTTP for whichever signals were created, behind one
// admission gate shared by both transports.
type otlpReceiver struct {
	cfg       *Config
	settings  receiver.Settings
	gate      *admission.Gate
	telemetry *metadata.TelemetryBuilder
	obsGRPC   *receiverhelper.ObsReport
	obsHTTP   *receiverhelper.ObsReport
	logs      *logsSignal // set by the factory before Start; nil when not in a pipeline
	metrics   *metricsSignal
	traces    *tracesSignal
	refusals  *refusalLog
	// tapHeld counts the streams refused at the tap that grpc-go still holds (grpctap.go).
	tapHeld heldStreams
	attrs   attrSets
	// overRequests and overBytes are the prebuilt answers to the common refusals.
	overRequests, overBytes, overWaiting backpressure.Response

	grpcServer *grpc.Server
	grpcAddr   net.Addr // bound address, for logs and tests
	httpServer *http.Server
	httpAddr   net.Addr
	serving    sync.WaitGroup // the Serve goroutines
}

func newReceiver(cfg *Config, set receiver.Settings) (*otlpReceiver, error) {
	set.TelemetrySettings = withoutSignal(set.TelemetrySettings)
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	obsGRPC, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "grpc", ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	obsHTTP, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	overRequests, overBytes, overWaiting := prebuiltRefusals(cfg.Admission)
	gate := admission.New(gateConfig(cfg.Admission))
	if err := tb.RegisterSluiceReceiverWaitingRequestsCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(gate.Stats().Waiting))
		return nil
	}); err != nil {
		return nil, err
	}
	return &otlpReceiver{
		overRequests: overRequests,
		overBytes:    overBytes,
		overWaiting:  overWaiting,
		cfg:          cfg,
		settings:     set,
		gate:         gate,
		telemetry:    tb,
		obsGRPC:      obsGRPC,
		obsHTTP:      obsHTTP,
		refusals:     newRefusalLog(set.Logger),
		attrs:        newAttrSets(),
	}, nil
}

func gateConfig(a AdmissionConfig) admission.Config {
	c := admission.Config{
		MaxRequests: a.MaxInflightRequests,
		MaxBytes:    a.MaxInflightBytes,
		MaxWaiting:  a.MaxWaitingRequests,
		MaxWait:     a.MaxWait,
	}
	if a.Tenant.MetadataKey != "" {
		c.TenantShare = a.Tenant.MaxShare
		c.MaxTenants = a.Tenant.MaxTenants
	}
	return c
}

// Start opens the enabled listeners. On a partial failure it closes what it opened.
func (r *otlpReceiver) Start(ctx context.Context, host component.Host) error {
	if r.cfg.Protocols.GRPC.HasValue() {
		if err := r.startGRPC(ctx, host); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	if r.cfg.Protocols.HTTP.HasValue() {
		if err := r.startHTTP(ctx, host); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	return nil
}

// Shutdown stops both servers at once. Each stops accepting and lets requests in flight
// finish for up to shutdown_timeout (less if ctx ends sooner); past it gRPC is stopped and
// HTTP closed, which cancels the requests' contexts and drops their connections. Shutdown
// then returns without waiting for handlers that ignore their context: a hung pipeline must
// not hang the collector. It is safe without Start.
func (r *otlpReceiver) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ShutdownTimeout)
	defer cancel()
	var stopping sync.WaitGroup
	if r.httpServer != nil {
		stopping.Go(func() {
			if r.httpServer.Shutdown(ctx) != nil {
				r.settings.Logger.Warn("HTTP requests still in flight after shutdown_timeout; closing their connections")
				_ = r.httpServer.Close()
			}
		})
	}
	if r.grpcServer != nil {
		stopping.Go(func() { r.stopGRPC(ctx) })
	}
	stopping.Wait()
	r.serving.Wait()
	r.telemetry.Shutdown()
	return nil
}

// stopGRPC stops gracefully, or forcibly once ctx ends. After Stop, GracefulStop may still
// wait in the background for handlers that ignore their context; nothing waits for it.
func (r *otlpReceiver) stopGRPC(ctx context.Context) {
	graceful := make(chan struct{})
	go func() {
		r.grpcServer.GracefulStop()
		close(graceful)
	}()
	select {
	case <-graceful:
	case <-ctx.Done():
		r.settings.Logger.Warn("gRPC requests still in flight after shutdown_timeout; stopping the server")
		r.grpcServer.Stop()
	}
}

// serve runs a server's accept loop in an owned goroutine; a failure is reported to the host.
func (r *otlpReceiver) serve(host component.Host, run func() error, closed error) {
	r.serving.Go(func() {
		if err := run(); err != nil && !errors.Is(err, closed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
}
