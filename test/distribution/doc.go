// Package distribution tests the built otelcol-sluice binary: its component list, every
// example config, and a real pipeline from OTLP clients into the embedded ClickHouse.
// `make distribution-test` builds the binary and points SLUICE_COLLECTOR_BIN at it.
package distribution
