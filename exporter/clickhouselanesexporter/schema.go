package clickhouselanesexporter

import (
	"context"
	"fmt"

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
