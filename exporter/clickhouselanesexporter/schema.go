package clickhouselanesexporter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ClickHouse/ch-go"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
)

// createSchema runs the DDL of the database and of signal's tables (each signal's exporter
// creates its own, as the collector builds one exporter per signal), choosing skip indexes by
// the server's version. The connection's default database may not exist yet, so every
// statement names its database.
func createSchema(ctx context.Context, ins *chinsert.Inserter, cfg *Config, signal string) error {
	major, minor, err := ins.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	for _, s := range chschema.Statements(cfg.schemaOptions(chschema.TextIndexesSupported(major, minor))) {
		if s.Signal != "" && s.Signal != signal {
			continue
		}
		if err := ins.Exec(ctx, s.SQL); err != nil {
			return ddlFault(s.Name, fmt.Errorf("create %s: %w", s.Name, err))
		}
	}
	return nil
}

func (c *Config) schemaOptions(textIndexes bool) chschema.Options {
	return chschema.Options{
		Database: c.Database,
		Tables: chschema.Tables{
			Logs: c.LogsTableName, Traces: c.TracesTableName,
			Gauge: c.MetricsTables.Gauge.Name, Sum: c.MetricsTables.Sum.Name,
			Histogram: c.MetricsTables.Histogram.Name, ExponentialHistogram: c.MetricsTables.ExponentialHistogram.Name,
			Summary: c.MetricsTables.Summary.Name,
		},
		Cluster: c.ClusterName, Distributed: c.DistributedTables, Engine: c.TableEngine.Name, EngineParams: c.TableEngine.Params,
		TTL: c.TTL, TextIndexes: textIndexes, DedupWindow: c.DeduplicationWindow,
	}
}

// ddlFault marks a failed DDL statement as a schema error when ClickHouse answered it with an
// exception: a server that refuses CREATE has a configuration problem, and the rows waiting
// for the table are good. Errors of the connection stay as they are (transient).
func ddlFault(statement string, err error) error {
	if _, isException := ch.AsException(err); !isException {
		return err
	}
	return &chinsert.SchemaError{Table: statement, Err: err}
}

// insertFault marks a failed insert whose exception is about the table (chinsert.ClassSchema),
// so its message tells the client and the log that the rows are kept.
func insertFault(table string, err error) error {
	if chinsert.IsSchema(err) {
		return &chinsert.SchemaError{Table: table, Err: err}
	}
	return err
}

// quotedTable is `database`.`table`.
func quotedTable(database, table string) string {
	return chschema.Ident(database) + "." + chschema.Ident(table)
}

// tableLayouts is what a destination knows of its tables' columns, shared by its insert
// paths: read from system.columns at start, and again before the first insert after a
// schema error, so a table altered, dropped or recreated under a running exporter is written
// as it is now. Tables made by older contrib exporters lack columns added since (EventName)
// and compute others themselves (TimestampTime): each path writes only the columns its table
// takes, and the missing ones are logged once per table and change.
type tableLayouts struct {
	destination string
	logger      *zap.Logger

	mu     sync.Mutex
	gen    uint64                       // bumped by every read; 0: never read
	stale  bool                         // read again before the next insert
	tables map[string]map[string]string // table → column → default_kind
	logged map[string]string            // table → the missing/computed report last logged
	// lastFault is when a schema error was last logged: at most one line per
	// refusalLogInterval, however many lanes and attempts hit it.
	lastFault time.Time
}

func newTableLayouts(destination string, logger *zap.Logger) *tableLayouts {
	return &tableLayouts{destination: destination, logger: logger, logged: map[string]string{}}
}

// invalidate makes the next fit read the columns again after err, a schema error, and logs
// it: with acknowledge on_enqueue no client hears of it.
func (l *tableLayouts) invalidate(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stale = true
	if now := time.Now(); now.Sub(l.lastFault) >= refusalLogInterval {
		l.lastFault = now
		fields := []zap.Field{zap.String("destination", l.destination), zap.Error(err)}
		if _, code := chinsert.Classify(err); code != 0 {
			fields = append(fields, zap.String("clickhouse_error", code.String()))
		}
		l.logger.Warn("ClickHouse table or configuration refuses good rows; keeping them and retrying (logged at most once a second)", fields...)
	}
}

// fit makes p's writers match the tables' columns, reading them first (over p's connection)
// if they were never read or a schema error made them stale. The read is bounded by timeout
// (insert_timeout, which bounds the insert it precedes): every path of the destination waits
// for it under l.mu, and the caller's context has no deadline of its own.
func (l *tableLayouts) fit(ctx context.Context, timeout time.Duration, p *insertPath) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen == 0 || l.stale {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		cols, err := p.ins.Columns(rctx)
		cancel()
		if err != nil {
			return ddlFault("the columns of the tables", fmt.Errorf("read the tables' columns: %w", err))
		}
		l.tables = map[string]map[string]string{}
		for _, c := range cols {
			if l.tables[c.Table] == nil {
				l.tables[c.Table] = map[string]string{}
			}
			l.tables[c.Table][c.Name] = c.DefaultKind
		}
		l.gen++
		l.stale = false
	}
	if p.layout == l.gen {
		return nil
	}
	for _, t := range p.tables {
		missing, computed, err := t.fit(l.tables[t.name])
		if err != nil {
			p.layout = 0 // refit every writer once the table is fixed
			return err
		}
		l.report(t.name, missing, computed)
	}
	p.layout = l.gen
	return nil
}

// report logs, once per table and change, the columns the exporter has rows for but does not
// write because the table lacks or computes them.
func (l *tableLayouts) report(table string, missing, computed []string) {
	key := strings.Join(missing, ",") + "|" + strings.Join(computed, ",")
	if l.logged[table] == key {
		return
	}
	l.logged[table] = key
	if len(missing) == 0 && len(computed) == 0 {
		if key != "|" {
			l.logger.Info("ClickHouse table now takes every column", zap.String("destination", l.destination), zap.String("table", table))
		}
		return
	}
	l.logger.Warn("ClickHouse table lacks optional columns (or computes them itself); they are not written",
		zap.String("destination", l.destination), zap.String("table", table),
		zap.Strings("missing", missing), zap.Strings("computed_by_table", computed))
}
