// Package load holds small-scale correctness tests under load: the built otelcol-sluice, the
// embedded ClickHouse and internal/loadgen as a retrying OTLP client. They assert properties
// (refusals are 429 / RESOURCE_EXHAUSTED with hints, landed == acknowledged, no duplicates),
// never speed. `make load-test` (part of `make test`) builds the distribution and sets
// SLUICE_COLLECTOR_BIN; without it they skip. The full-scale benchmark is `make bench`.
package load
