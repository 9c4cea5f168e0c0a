// Package chlocal runs a real ClickHouse server (26.7, from the chDB build of
// clickhouse-local published on npm) for tests and local development.
//
// Debian ships ClickHouse 18.16, which lacks DateTime64 and Map, and Docker is
// not available everywhere, so Fetch (`go run ./cmd/chlocal fetch`, which
// `make test` and `make run` run first) downloads @chdb/lib-linux-x64-gnu
// once into a per-user cache, verifies it against a pinned sha512 and
// compiles a tiny C launcher with gcc; Start then runs clickhouse-local as a
// child process that opens TCP (native) and HTTP listeners on 127.0.0.1.
// Start never downloads: a test process finding an empty cache fails with
// ErrNotFetched, saying what to run.
//
// Setting CLICKHOUSE_ENDPOINT (for example tcp://user:pass@host:9000) makes
// ForTest and cmd/chlocal use that server instead of starting one.
//
// Only linux/amd64 with glibc is supported, because that is the only build of
// the library this package pins.
package chlocal
