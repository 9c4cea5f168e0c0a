// Package chcol converts pdata straight into ClickHouse native-protocol column buffers (ch-go
// proto columns), one block type per table. A block is reused batch after batch: Reset keeps
// every slice's capacity, so a warmed-up block converts a span with no allocation, no
// reflection and no per-row []any.
//
// A block is not safe for concurrent use: each lane (or each slot of the synchronous path) owns
// its own.
package chcol
