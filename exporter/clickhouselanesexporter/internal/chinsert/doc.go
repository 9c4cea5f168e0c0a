// Package chinsert is the client side of one insert path: a ClickHouse native connection
// (dialled lazily, with failover across hosts, redialled after any error), the per-insert
// settings (deduplication token, async_insert), and the one function that decides whether a
// failed insert is worth retrying.
//
// An Inserter is used by one goroutine at a time; a lane owns one.
package chinsert
