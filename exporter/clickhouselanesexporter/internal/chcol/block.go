package chcol

import (
	"strings"

	"github.com/ClickHouse/ch-go/proto"
)

// Block is the column set of one table: what a lane fills and then inserts.
type Block interface {
	// Rows is the number of rows appended since the last Reset.
	Rows() int
	// Input lists the columns by name, ready for an INSERT; it is built once, not per batch.
	Input() proto.Input
	// Reset empties every column, keeping capacity.
	Reset()
}

// InsertQuery returns "INSERT INTO `db`.`table` (`col`, ...) VALUES" for in, with every
// identifier quoted.
func InsertQuery(quotedTable string, in proto.Input) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quotedTable)
	b.WriteString(" (")
	for i, c := range in {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + c.Name + "`")
	}
	b.WriteString(") VALUES")
	return b.String()
}

func newDateTime64() *nanosCol {
	c := &nanosCol{}
	c.WithPrecision(proto.PrecisionNano)
	return c
}

// resetInput resets every column of in; all proto columns used here implement Reset.
func resetInput(in proto.Input) {
	for _, c := range in {
		c.Data.(interface{ Reset() }).Reset()
	}
}
