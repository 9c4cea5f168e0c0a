// Package chcol converts pdata straight into ClickHouse native-protocol columns, one block type
// per table. A block is reused batch after batch: Reset keeps every buffer's capacity, so a
// warmed-up block converts a span with no allocation, no reflection and no per-row []any.
//
// Two choices keep it cheap:
//   - String, Map and Array columns (strCol, AttrMap, arrCol) hold their rows in native wire
//     format from the moment they are appended, so encoding a block is one copy per column;
//     fixed-width columns are ch-go's proto columns.
//   - LowCardinality(String) columns, including Map keys, travel as String: the server casts a
//     block to the table's types on insert, and building the dictionary client-side would cost
//     a hash lookup per value — the largest single cost of encoding a span — for work the
//     server repeats when it writes each part. Table types are unchanged.
//
// A block is not safe for concurrent use: each insert path of a destination's pool owns its
// own, and one lane worker at a time fills it.
package chcol
