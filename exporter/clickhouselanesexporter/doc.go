//go:generate go tool mdatagen metadata.yaml

// Package clickhouselanesexporter writes OTLP data into ClickHouse through lanes: each lane
// has a bounded queue (or, with acknowledge on_wal, a write-ahead log), a batcher, a worker
// and a circuit breaker, so a slow destination or a noisy tenant fills and trips only its
// own lanes.
//
// # The data path
//
// A request goes one way through these files:
//
//   - exporter.go: push splits a request by lane key (split.go) and offers each part to
//     its lane's queue (internal/queue), or with on_wal appends it to the lane's log
//     (wal_append.go, internal/wal). Refusals (refusals.go) are answered at once.
//   - lane.go: a lane, its breaker and its worker, which takes batches from the queue,
//     inserts them and completes their items, isolating rejected requests by halving. With
//     on_wal the worker is drain.go: read a batch from the log, save it as pending, insert,
//     save it as committed.
//   - insert.go: one batch's insert, attempt by attempt behind the breaker, with backoff,
//     settling an insert of unknown outcome.
//   - destination.go and path.go: the ClickHouse side, a pool of insert paths (connection
//     and column blocks) per destination; schema.go fits the blocks to the tables.
//
// lifecycle.go starts and stops the exporter and retires idle lanes.
package clickhouselanesexporter // import "github.com/sluicehq/sluice/exporter/clickhouselanesexporter"
