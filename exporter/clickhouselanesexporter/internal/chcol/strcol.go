package chcol

// lowCard stands for a LowCardinality(String) column. It is sent as plain String and the
// server converts it on insert (it accepts any block type castable to the column's): building
// the dictionary client-side costs a hash lookup per value, the largest single cost of
// encoding a span, while the server re-indexes values into each part's dictionary anyway. The
// table type stays LowCardinality(String); only the wire type differs.
type lowCard = strCol
