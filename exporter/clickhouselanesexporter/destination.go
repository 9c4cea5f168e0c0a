package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
)

// schemaTimeout bounds creating the schema on one destination; the DDL is a dozen small
// statements, and a destination that cannot run them in this time is not healthy.
const schemaTimeout = 30 * time.Second

// destination is one ClickHouse server (or failover group) the exporter writes to: the
// top-level one or a route's. It owns a pool of insert paths, so a slow destination only
// ever holds its own connections, and it creates its schema once, on first need.
type destination struct {
	name   string
	signal string  // whose tables the schema creation makes
	cfg    *Config // the exporter's config with this destination's connection settings
	opts   chinsert.Options
	paths  chan *insertPath

	schemaMu    sync.Mutex
	schemaReady bool

	layouts *tableLayouts // the tables' columns, read at start and after schema errors
}

// newDestination builds the pool; connections are dialled on first use.
func newDestination(ctx context.Context, name, signal string, cfg *Config, tables func(db string, cfg *Config) []*tableWriter, logger *zap.Logger) (*destination, error) {
	opts, err := cfg.insertOptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", name, err)
	}
	d := &destination{name: name, signal: signal, cfg: cfg, opts: opts, paths: make(chan *insertPath, cfg.PoolSize),
		layouts: newTableLayouts(name, logger)}
	for range cfg.PoolSize {
		d.paths <- &insertPath{ins: chinsert.New(opts), tables: tables(cfg.Database, cfg)}
	}
	d.schemaReady = !cfg.CreateSchema
	return d, nil
}

// routeConfig is the exporter's config pointed at a route's ClickHouse.
func (c *Config) routeConfig(r RouteConfig) *Config {
	rc := *c
	rc.Routes = nil
	rc.Endpoint, rc.Username, rc.Password = r.Endpoint, r.Username, r.Password
	if r.Database != "" {
		rc.Database = r.Database
	}
	rc.TLS = configtls.ClientConfig{Insecure: true}
	if r.TLS != nil {
		rc.TLS = *r.TLS
	}
	return &rc
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

// ensureSchema creates the database and tables if create_schema is on and they were not
// created yet. Concurrent callers wait for one attempt; a failed attempt is retried by the
// next caller.
func (d *destination) ensureSchema(ctx context.Context) error {
	d.schemaMu.Lock()
	defer d.schemaMu.Unlock()
	if d.schemaReady {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, schemaTimeout)
	defer cancel()
	// The database may not exist yet, so the DDL connection uses the server's default
	// database; every statement names its own.
	opts := d.opts
	opts.Database = ""
	ddl := chinsert.New(opts)
	err := errors.Join(createSchema(ctx, ddl, d.cfg, d.signal), ddl.Close())
	if err != nil {
		return fmt.Errorf("create schema on destination %s: %w", d.name, err)
	}
	d.schemaReady = true
	return nil
}

// insert fills an insert path's blocks from src and inserts them, each table's attempt
// bounded by insert_timeout. Waiting for a free path is bounded by ctx only: paths are held
// for at most one insert each.
func (d *destination) insert(ctx context.Context, src blockSource, report func(insertResult)) error {
	if err := d.ensureSchema(ctx); err != nil {
		return err
	}
	var p *insertPath
	select {
	case p = <-d.paths:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { d.paths <- p }()
	return d.write(ctx, p, src, report)
}

// write fits p to the tables' current columns, fills it and inserts it. A schema error makes
// the next write read the columns again.
func (d *destination) write(ctx context.Context, p *insertPath, src blockSource, report func(insertResult)) error {
	err := d.layouts.fit(ctx, d.cfg.InsertTimeout, p)
	if err == nil {
		err = p.write(ctx, d.cfg.InsertTimeout, src, report)
	}
	if chinsert.IsSchema(err) {
		d.layouts.invalidate(err)
	}
	return err
}

// readColumns reads the tables' columns at start, so a table that cannot be written (absent,
// or without a required column) fails start with a clear error instead of every insert. It is
// an insert of nothing: empty blocks are not sent. A server that cannot be reached does not
// fail start (create_schema would have, already): the first insert reads the columns.
func (d *destination) readColumns(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, schemaTimeout)
	defer cancel()
	err := d.insert(ctx, blockSource{fill: func([]*tableWriter) (bool, error) { return false, nil }}, func(insertResult) {})
	if err != nil && !chinsert.IsSchema(err) {
		d.layouts.logger.Warn("Could not read the ClickHouse tables' columns at start; the first insert will",
			zap.String("destination", d.name), zap.Error(err))
		return nil
	}
	if se, ok := errors.AsType[*chinsert.SchemaError](err); ok {
		err = se.Err // no rows are waiting yet: the hint about kept rows would mislead
	}
	if err != nil {
		return fmt.Errorf("destination %s: %w", d.name, err)
	}
	return nil
}

// close closes every connection; the lanes using the destination must have stopped.
func (d *destination) close() error {
	var errs []error
	for range cap(d.paths) {
		p := <-d.paths
		errs = append(errs, p.ins.Close())
	}
	return errors.Join(errs...)
}
