package clickhouselanesexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// TestStreamedInsertTimeoutBoundsEachStep: insert_timeout bounds each step of a streamed
// insert (ClickHouse taking a block, then answering), not the whole insert, so an on_wal
// batch of flush_rows rows may take several timeouts to send. Here each block is ready only
// after most of a timeout (the lane filling it), and six of them take three.
func TestStreamedInsertTimeoutBoundsEachStep(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	exp, _ := newLogsExporter(t, cfg)
	startComponent(t, exp)
	require.NoError(t, exp.ConsumeLogs(context.Background(), uniqueLogs("schema", 1))) // creates the table

	opts, err := cfg.insertOptions(context.Background())
	require.NoError(t, err)
	path := &insertPath{ins: chinsert.New(opts), tables: logsSignal.tables(cfg.Database, cfg)}
	defer path.ins.Close()
	const timeout, blocks = time.Second, 6
	filled := 0
	src := blockSource{
		token: func(table string) string { return "stream-" + table },
		fill: func(tables []*tableWriter) (bool, error) {
			if filled > 0 {
				time.Sleep(timeout / 2) // the lane's work between blocks: not ClickHouse's step
			}
			filled++
			logsSignal.fill(blocksOf(tables), uniqueLogs(fmt.Sprint("block ", filled), 10))
			return filled < blocks, nil
		},
	}
	start := time.Now()
	require.NoError(t, path.write(context.Background(), timeout, src, func(insertResult) {}))
	require.Greater(t, time.Since(start), 2*timeout, "the insert outlasted its timeout")
	requireLands(t, endpoint, cfg, 1+blocks*10)
}
