package chinsert

import (
	"context"

	"github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"
)

// Column is one column of a table, as system.columns describes it.
type Column struct {
	Table string
	Name  string
	Type  string
	// DefaultKind is "" for an ordinary column, else DEFAULT, MATERIALIZED, ALIAS or EPHEMERAL:
	// the table computes the column itself.
	DefaultKind string
}

// columnsQuery reads the connection's own database, which Options.Database names: no
// identifier or literal has to be quoted into the query.
const columnsQuery = "SELECT table, name, type, default_kind FROM system.columns " +
	"WHERE database = currentDatabase() ORDER BY table, position"

// Columns reads the columns of every table in the connection's database.
func (in *Inserter) Columns(ctx context.Context) ([]Column, error) {
	c, err := in.conn(ctx)
	if err != nil {
		return nil, err
	}
	var table, name, typ, kind proto.ColStr
	var out []Column
	q := ch.Query{
		Body: columnsQuery,
		Result: proto.Results{
			{Name: "table", Data: &table}, {Name: "name", Data: &name},
			{Name: "type", Data: &typ}, {Name: "default_kind", Data: &kind},
		},
		OnResult: func(context.Context, proto.Block) error {
			for i := range table.Rows() {
				out = append(out, Column{Table: table.Row(i), Name: name.Row(i), Type: typ.Row(i), DefaultKind: kind.Row(i)})
			}
			return nil
		},
	}
	if err := c.Do(ctx, q); err != nil {
		in.drop()
		return nil, err
	}
	return out, nil
}
