//go:generate go tool mdatagen metadata.yaml

// Package clickhouselanesexporter writes OTLP data into ClickHouse through lanes: each lane
// has a bounded queue, a batcher, a worker and a circuit breaker, so a slow destination or a
// noisy tenant fills and trips only its own lanes.
package clickhouselanesexporter // import "github.com/sluicehq/sluice/exporter/clickhouselanesexporter"
