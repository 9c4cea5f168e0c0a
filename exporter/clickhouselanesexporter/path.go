package clickhouselanesexporter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chcol"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
)

// insertPath is everything one writer needs to put rows into ClickHouse: one connection and one
// reusable column block per table it writes. Each destination keeps a pool of them, and a
// lane's worker borrows one per insert. Not safe for concurrent use.
type insertPath struct {
	ins    *chinsert.Inserter
	tables []*tableWriter
	// layout is the generation of the destination's tableLayouts the tables were fitted to.
	layout uint64
}

// tableWriter is one table's block and the INSERT statement for the columns the table takes.
type tableWriter struct {
	name   string
	quoted string // `database`.`table`
	block  chcol.Block
	input  proto.Input // the block's columns the table takes: all of them until fitted
	query  string
}

func newTableWriter(database, table string, block chcol.Block) *tableWriter {
	t := &tableWriter{name: table, quoted: quotedTable(database, table), block: block}
	t.use(block.Input())
	return t
}

func (t *tableWriter) use(input proto.Input) {
	t.input = input
	t.query = chcol.InsertQuery(t.quoted, input)
}

// fit restricts the writer to the columns the table has and does not compute itself, and
// returns the block's columns the table lacks or computes. A table that does not exist or
// lacks a required column is a schema error: nothing can be written to it.
func (t *tableWriter) fit(columns map[string]string) (missing, computed []string, err error) {
	if len(columns) == 0 {
		return nil, nil, &chinsert.SchemaError{Table: t.name, Err: fmt.Errorf("table %s does not exist", t.quoted)}
	}
	for _, c := range chcol.Required(t.block) {
		switch kind, ok := columns[c]; {
		case !ok:
			return nil, nil, &chinsert.SchemaError{Table: t.name, Err: fmt.Errorf(
				"table %s has no column %s to write (the exporter cannot write rows without it)", t.quoted, c)}
		case kind != "":
			return nil, nil, &chinsert.SchemaError{Table: t.name, Err: fmt.Errorf(
				"table %s computes column %s itself (%s), so the rows' own values cannot be written", t.quoted, c, kind)}
		}
	}
	input, missing, computed := chcol.Fit(t.block.Input(), columns)
	t.use(input)
	return missing, computed, nil
}

// insertResult reports one table's insert to the caller's telemetry.
type insertResult struct {
	table    string
	rows     int
	duration time.Duration
	err      error
}

// blockSource is what one insert attempt writes. fill appends the next rows to the path's
// blocks and reports whether more follow.
//
// Without a token, fill is called once and every non-empty block is inserted with a hash of
// its content as deduplication token (see flush). With token, the signal writes one table
// and its rows are streamed: one INSERT whose blocks fill makes one at a time, the table's
// block reset between them, so memory holds one block whatever the batch's size; token(table)
// is its deduplication token, named before the first block is known.
type blockSource struct {
	fill  func(tables []*tableWriter) (more bool, err error)
	token func(table string) string
	done  func() // if set, called when the attempt is over (the blocks are no longer needed)
}

// write inserts what src fills, each table's attempt bounded by timeout.
func (p *insertPath) write(ctx context.Context, timeout time.Duration, src blockSource, report func(insertResult)) error {
	if src.done != nil {
		defer src.done()
	}
	if src.token != nil {
		return p.stream(ctx, timeout, src, report)
	}
	if _, err := src.fill(p.tables); err != nil {
		p.reset()
		return err
	}
	return p.flush(ctx, timeout, report)
}

// stream inserts the single table's rows from src as one INSERT of one or more blocks.
func (p *insertPath) stream(ctx context.Context, timeout time.Duration, src blockSource, report func(insertResult)) error {
	defer p.reset()
	t := p.tables[0]
	t.block.Reset()
	more, err := src.fill(p.tables)
	if err != nil {
		return err
	}
	rows := t.block.Rows()
	if rows == 0 {
		return nil
	}
	start := time.Now()
	// timeout bounds each step of the stream (ClickHouse taking a block, then answering), not
	// the whole: a batch of flush_rows rows may take several timeouts to send, and it stalls
	// only when one step does.
	err = p.ins.InsertStream(ctx, t.query, t.input, src.token(t.name), timeout, func() (bool, error) {
		t.block.Reset()
		if !more {
			return false, nil
		}
		var err error
		if more, err = src.fill(p.tables); err != nil {
			return false, err
		}
		rows += t.block.Rows()
		return t.block.Rows() > 0, nil
	})
	if err != nil {
		err = insertFault(t.name, &insertError{table: t.name, err: err})
	}
	report(insertResult{table: t.name, rows: rows, duration: time.Since(start), err: err})
	return err
}

// flush inserts every non-empty block, each attempt bounded by timeout, and resets the blocks
// whatever happens: the caller still holds the pdata and retries from it.
//
// A table that rejects its rows permanently does not stop the others (their rows are good);
// its error is returned at the end. A transient failure (a schema error included: the table,
// not the rows, is at fault) stops at once and is returned: the
// caller retries the whole batch, and tables already written are not rewritten when
// deduplication is on (same content, same token).
func (p *insertPath) flush(ctx context.Context, timeout time.Duration, report func(insertResult)) error {
	defer p.reset()
	var permanent []error
	for _, t := range p.tables {
		rows := t.block.Rows()
		if rows == 0 {
			continue
		}
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := p.ins.Insert(actx, t.query, t.input)
		cancel()
		if err != nil {
			err = insertFault(t.name, &insertError{table: t.name, err: err})
		}
		report(insertResult{table: t.name, rows: rows, duration: time.Since(start), err: err})
		if err == nil {
			continue
		}
		if ok, _ := chinsert.Permanent(err); !ok {
			return err
		}
		permanent = append(permanent, err)
	}
	return errors.Join(permanent...)
}

// insertError is a failed insert into one table. Its message is what clients read: a server
// exception is rendered as its name, code and text, without the driver's "handle packet" and
// the server's "DB::Exception" prefixes.
type insertError struct {
	table string
	err   error
}

func (e *insertError) Error() string {
	if exc, ok := ch.AsException(e.err); ok {
		// proto.Error prints as "NAME (code)".
		return fmt.Sprintf("insert into %s: ClickHouse %s: %s", e.table, exc.Code, strings.TrimPrefix(exc.Message, "DB::Exception: "))
	}
	return "insert into " + e.table + ": " + e.err.Error()
}

func (e *insertError) Unwrap() error { return e.err }

func (p *insertPath) reset() {
	for _, t := range p.tables {
		t.block.Reset()
	}
}
