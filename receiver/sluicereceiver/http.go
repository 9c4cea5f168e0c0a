package sluicereceiver

import (
	"context"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/sluicehq/sluice/internal/backpressure"
)

func (r *otlpReceiver) startHTTP(ctx context.Context, host component.Host) error {
	cfg := r.cfg.Protocols.HTTP.Get()
	srv, err := cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings,
		r.httpHandler(), confighttp.WithErrorHandler(writeTransportError))
	if err != nil {
		return err
	}
	ln, err := cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	r.httpServer, r.httpAddr = srv, ln.Addr()
	r.settings.Logger.Info("Starting HTTP server", zapEndpoint(ln.Addr().String()))
	r.serve(host, func() error { return srv.Serve(ln) }, http.ErrServerClosed)
	return nil
}

// httpHandler routes the configured paths; everything else is a 404 with an OTLP Status body.
func (r *otlpReceiver) httpHandler() http.Handler {
	cfg := r.cfg.Protocols.HTTP.Get()
	mux := http.NewServeMux()
	if r.traces != nil {
		mux.HandleFunc(cfg.TracesURLPath, r.traces.serveHTTP)
	}
	if r.metrics != nil {
		mux.HandleFunc(cfg.MetricsURLPath, r.metrics.serveHTTP)
	}
	if r.logs != nil {
		mux.HandleFunc(cfg.LogsURLPath, r.logs.serveHTTP)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeStatus(w, encodingOf(req), backpressure.ClientError(http.StatusNotFound, "no OTLP endpoint at "+req.URL.Path))
	})
	return mux
}

// writeTransportError answers errors raised by confighttp itself (bad compression, body over
// the limit) in the OTLP shape.
func writeTransportError(w http.ResponseWriter, req *http.Request, msg string, statusCode int) {
	writeStatus(w, encodingOf(req), backpressure.ClientError(statusCode, msg))
}
