package chcol

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"go.opentelemetry.io/collector/pdata/testdata"
)

// recordCase is one signal's blocks and a way to fill them from pdata.
type recordCase struct {
	name   string
	blocks func() []Block
	fill   func([]Block)
}

func recordCases() []recordCase {
	td := testdata.GenerateTraces(20)
	events := spansForAllocs() // events and links with attributes
	ld := testdata.GenerateLogs(20)
	md := testdata.GenerateMetrics(14) // every metric type twice, with exemplars
	return []recordCase{
		{"traces", func() []Block { return []Block{NewTraces()} }, func(b []Block) {
			b[0].(*Traces).Append(td)
			b[0].(*Traces).Append(events)
		}},
		{"logs", func() []Block { return []Block{NewLogs()} }, func(b []Block) { b[0].(*Logs).Append(ld) }},
		{"metrics", func() []Block {
			m := NewMetrics()
			return []Block{m.Gauge, m.Sum, m.Histogram, m.ExponentialHistogram, m.Summary}
		}, func(b []Block) {
			AppendMetrics(md, b[0].(*Gauge), b[1].(*Sum), b[2].(*Histogram), b[3].(*ExpHistogram), b[4].(*Summary))
		}},
	}
}

// columnBytes is every column of blocks as an INSERT would send it.
func columnBytes(blocks []Block) [][]byte {
	var out [][]byte
	for _, b := range blocks {
		for _, c := range b.Input() {
			var buf proto.Buffer
			c.Data.EncodeColumn(&buf)
			out = append(out, buf.Buf)
		}
	}
	return out
}

func record(c recordCase) []byte {
	blocks := c.blocks()
	c.fill(blocks)
	return AppendRecord(nil, Layout(blocks), blocks)
}

// TestRecordAppendsWhatConversionWould: appending a record twice to blocks that already
// hold rows gives byte for byte the columns of converting the same pdata three times, for
// every column type of every table (offsets of arrays and maps rebased).
func TestRecordAppendsWhatConversionWould(t *testing.T) {
	for _, c := range recordCases() {
		t.Run(c.name, func(t *testing.T) {
			rec := record(c)
			want := c.blocks()
			c.fill(want)
			c.fill(want)
			c.fill(want)

			got := c.blocks()
			c.fill(got)
			layout := Layout(got)
			for range 2 {
				n, err := AppendFromRecord(got, layout, rec)
				if err != nil {
					t.Fatal(err)
				}
				if m, _ := RecordRows(rec, layout, len(got)); n != m {
					t.Fatalf("AppendFromRecord appended %d rows, RecordRows says %d", n, m)
				}
			}
			rows, err := RecordRows(rec, layout, len(got))
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for i, b := range got {
				total += want[i].Rows()
				if b.Rows() != want[i].Rows() {
					t.Errorf("block %d: %d rows, want %d", i, b.Rows(), want[i].Rows())
				}
			}
			if rows*3 != total || rows == 0 {
				t.Errorf("RecordRows = %d, want a third of %d", rows, total)
			}
			g, w := columnBytes(got), columnBytes(want)
			for i := range w {
				if !bytes.Equal(g[i], w[i]) {
					t.Errorf("column %d differs:\n got %x\nwant %x", i, g[i], w[i])
				}
			}
		})
	}
}

// TestDamagedRecordAppendsNothing: every truncation of a record, and one with trailing
// bytes, fails and leaves the blocks as they were.
func TestDamagedRecordAppendsNothing(t *testing.T) {
	for _, c := range recordCases() {
		t.Run(c.name, func(t *testing.T) {
			rec := record(c)
			blocks := c.blocks()
			c.fill(blocks)
			before := columnBytes(blocks)
			layout := Layout(blocks)
			for n := range len(rec) {
				if _, err := AppendFromRecord(blocks, layout, rec[:n]); err == nil {
					t.Fatalf("a record cut to %d of %d bytes decoded", n, len(rec))
				}
			}
			if _, err := AppendFromRecord(blocks, layout, append(bytes.Clone(rec), 0)); err == nil {
				t.Fatal("a record with a trailing byte decoded")
			}
			after := columnBytes(blocks)
			for i := range before {
				if !bytes.Equal(before[i], after[i]) {
					t.Fatalf("column %d changed by records that failed", i)
				}
			}
		})
	}
}

// TestRecordOfOtherColumnsIsRefused: a record is only read into the blocks it was written
// for.
func TestRecordOfOtherColumnsIsRefused(t *testing.T) {
	cases := recordCases()
	traces, logs := cases[0], cases[1]
	rec := record(traces)
	blocks := logs.blocks()
	if _, err := AppendFromRecord(blocks, Layout(blocks), rec); !errors.Is(err, ErrRecordLayout) {
		t.Fatalf("a traces record read as logs: %v, want ErrRecordLayout", err)
	}
	if _, err := RecordRows(rec, Layout(blocks), 1); !errors.Is(err, ErrRecordLayout) {
		t.Fatalf("RecordRows of a traces record as logs: %v, want ErrRecordLayout", err)
	}
	if Layout(traces.blocks()) == Layout(blocks) {
		t.Fatal("traces and logs share a layout")
	}
}

// FuzzAppendFromRecord: any bytes either fail to decode, leaving the blocks alone, or
// append rows to every column alike, which then encode.
func FuzzAppendFromRecord(f *testing.F) {
	cases := recordCases()
	for i, c := range cases {
		f.Add(byte(i), record(c))
	}
	f.Fuzz(func(t *testing.T, which byte, rec []byte) {
		c := cases[int(which)%len(cases)]
		blocks := c.blocks()
		if _, err := AppendFromRecord(blocks, Layout(blocks), rec); err != nil {
			for _, b := range blocks {
				if b.Rows() != 0 {
					t.Fatalf("failed record (%v) left %d rows", err, b.Rows())
				}
			}
			return
		}
		for _, b := range blocks {
			for _, col := range b.Input() {
				if col.Data.Rows() != b.Rows() {
					t.Fatalf("column %s has %d rows, block %d", col.Name, col.Data.Rows(), b.Rows())
				}
			}
		}
		_ = columnBytes(blocks)
	})
}
