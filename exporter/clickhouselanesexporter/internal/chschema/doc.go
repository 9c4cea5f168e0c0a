// Package chschema renders the DDL of the tables the exporter writes: the same table and column
// names and types as the contrib clickhouseexporter, so dashboards built on that schema (the
// Grafana ClickHouse data source's OpenTelemetry mode among them) keep working unchanged.
//
// Every identifier (database, table, cluster) goes through Ident, so a configured name can never
// inject SQL. The text is our own; golden files under testdata pin it per server-version branch.
package chschema
