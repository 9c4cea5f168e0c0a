package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadata"
)

// syncLane names the lane of the synchronous data path in telemetry until lanes exist.
const syncLane = "sync"

// chExporter is the synchronous data path of one signal: each push borrows an insert path from
// a fixed pool, converts, inserts and gives it back. Transient errors are returned as they are
// (the backpressure package maps them); permanent ones are dropped with a metric and a log line.
type chExporter[T any] struct {
	cfg       *Config
	sig       signal[T]
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	dest      string
	paths     chan *insertPath
}

func newExporter[T any](set exporter.Settings, cfg *Config, sig signal[T]) (*chExporter[T], error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &chExporter[T]{
		cfg: cfg, sig: sig, logger: set.Logger, telemetry: tb, dest: set.ID.String(),
	}, nil
}

// start creates the schema if configured and fills the pool of insert paths, which dial on
// first use (so a ClickHouse that is down at start only fails start when schema creation needs
// it).
func (e *chExporter[T]) start(ctx context.Context, _ component.Host) error {
	opts, err := e.cfg.insertOptions(ctx)
	if err != nil {
		return err
	}
	if e.cfg.CreateSchema {
		// The database may not exist yet, so the DDL connection uses the server's default
		// database; every statement names its own.
		ddlOpts := opts
		ddlOpts.Database = ""
		ddl := chinsert.New(ddlOpts)
		err := createSchema(ctx, ddl, e.cfg)
		if err = errors.Join(err, ddl.Close()); err != nil {
			return err
		}
	}
	e.paths = make(chan *insertPath, e.cfg.PoolSize)
	for range e.cfg.PoolSize {
		e.paths <- &insertPath{ins: chinsert.New(opts), tables: e.sig.tables(e.cfg)}
	}
	return nil
}

// shutdown closes every connection. Safe without start; it waits for pushes in flight to return
// their paths, which their insert_timeout bounds, unless ctx ends first.
func (e *chExporter[T]) shutdown(ctx context.Context) error {
	defer e.telemetry.Shutdown()
	if e.paths == nil {
		return nil
	}
	var errs []error
	for range cap(e.paths) {
		select {
		case p := <-e.paths:
			errs = append(errs, p.ins.Close())
		case <-ctx.Done():
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
	return errors.Join(errs...)
}

// push converts data and inserts it synchronously.
func (e *chExporter[T]) push(ctx context.Context, data T) error {
	var p *insertPath
	select {
	case p = <-e.paths:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { e.paths <- p }()
	e.sig.fill(p.tables, data)
	err := p.flush(ctx, e.cfg.InsertTimeout, e.record)
	if err == nil {
		return nil
	}
	if permanent, _ := chinsert.Permanent(err); permanent {
		return consumererror.NewPermanent(err)
	}
	return err
}

// record turns one insert's outcome into metrics, and a permanent failure into a log line that
// names the table and the ClickHouse error code.
func (e *chExporter[T]) record(r insertResult) {
	ctx := context.Background()
	attrs := metric.WithAttributes(attribute.String("destination", e.dest),
		attribute.String("signal", e.sig.name), attribute.String("table", r.table))
	e.telemetry.SluiceExporterInsertDuration.Record(ctx, r.duration.Seconds(), attrs)
	if r.err == nil {
		e.telemetry.SluiceExporterRowsInserted.Add(ctx, int64(r.rows), metric.WithAttributes(
			attribute.String("destination", e.dest), attribute.String("lane", syncLane),
			attribute.String("signal", e.sig.name), attribute.String("table", r.table)))
		return
	}
	permanent, code := chinsert.Permanent(r.err)
	if !permanent {
		return
	}
	e.telemetry.SluiceExporterRowsDropped.Add(ctx, int64(r.rows), attrs)
	e.logger.Error("ClickHouse rejected rows permanently; dropping them",
		zap.String("table", r.table), zap.Int32("clickhouse_code", int32(code)),
		zap.String("clickhouse_error", code.String()), zap.Int("rows", r.rows), zap.Error(r.err))
}

func (c *Config) insertOptions(ctx context.Context) (chinsert.Options, error) {
	addrs, err := parseEndpoint(c.Endpoint, c.Password != "")
	if err != nil {
		return chinsert.Options{}, err
	}
	tlsCfg, err := c.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return chinsert.Options{}, fmt.Errorf("tls: %w", err)
	}
	return chinsert.Options{
		Addrs: addrs, Database: c.Database, User: c.Username, Password: string(c.Password),
		Compression: c.Compression.method(), ClientName: c.ClientName,
		DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, TLS: tlsCfg,
		AsyncInsert: c.AsyncInsert.Enabled, WaitForAsyncInsert: c.AsyncInsert.Wait,
		Deduplicate: c.Deduplicate,
	}, nil
}
