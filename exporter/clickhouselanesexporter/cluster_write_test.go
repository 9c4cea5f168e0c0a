package clickhouselanesexporter

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chschema"
	"github.com/sluicehq/sluice/internal/chlocal"
)

// distributedCluster starts a two-shard cluster, creates the distributed_tables schema on
// every node (what the exporter creates with ON CLUSTER on a real cluster) and returns a
// config that writes through the first node.
func distributedCluster(t *testing.T) (*chlocal.Cluster, *Config) {
	t.Helper()
	c := chlocal.StartClusterForTest(t, chlocal.ClusterOptions{Name: "otel_cluster"})
	cfg := testConfig(t, c.Endpoints()[0])
	cfg.ClusterName, cfg.DistributedTables = c.Name(), true
	cfg.CreateSchema = false // the embedded nodes cannot run ON CLUSTER
	require.NoError(t, cfg.Validate())
	createPerNode(t, c, cfg)
	return c, cfg
}

func TestDistributedTablesNeedClusterName(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.DistributedTables = true
	require.ErrorContains(t, cfg.Validate(), "distributed_tables needs cluster_name")
}

func traceID(i int) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
	return id
}

// TestDistributedTablesOnATwoShardCluster writes traces and logs through the Distributed
// tables of one node and reads them back through the other's, with the queries a trace UI
// makes: what was acknowledged is there exactly once, spread over both shards, and each
// trace lives on one shard with its trace-id row next to it.
func TestDistributedTablesOnATwoShardCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	t.Parallel()
	c, cfg := distributedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	traces, err := NewFactory().CreateTraces(ctx, nopSettings(), cfg)
	require.NoError(t, err)
	startComponent(t, traces)
	logs, err := NewFactory().CreateLogs(ctx, nopSettings(), cfg)
	require.NoError(t, err)
	startComponent(t, logs)

	const nTraces, spansPer, nLogs = 20, 5, 200
	base := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range nTraces {
		td := ptrace.NewTraces()
		spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		for j := range spansPer {
			s := spans.AppendEmpty()
			s.SetTraceID(traceID(i))
			s.SetSpanID(pcommon.SpanID{byte(i), byte(j), 1})
			s.SetName(fmt.Sprintf("span %d", j))
			start := base.Add(time.Duration(i)*time.Minute + time.Duration(j)*time.Second)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
		}
		require.NoError(t, traces.ConsumeTraces(ctx, td))
	}
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range nLogs {
		r := records.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Millisecond)))
		r.Body().SetStr(fmt.Sprintf("log %d", i))
	}
	require.NoError(t, logs.ConsumeLogs(ctx, ld))

	// Acknowledged means on the shards: read at once, through the node not written to.
	other := openDB(t, c.Endpoints()[1])
	table := func(name string) string { return quotedTable(cfg.Database, name) }
	var count, distinct uint64
	require.NoError(t, other.QueryRow(ctx, "SELECT count(), uniqExact(SpanId) FROM "+table(cfg.TracesTableName)).Scan(&count, &distinct))
	require.Equal(t, [2]uint64{nTraces * spansPer, nTraces * spansPer}, [2]uint64{count, distinct})
	require.NoError(t, other.QueryRow(ctx, "SELECT count(), uniqExact(Body) FROM "+table(cfg.LogsTableName)).Scan(&count, &distinct))
	require.Equal(t, [2]uint64{nLogs, nLogs}, [2]uint64{count, distinct})

	for _, name := range []string{cfg.TracesTableName, cfg.LogsTableName} {
		for i, ep := range c.Endpoints() {
			n := countRows(t, openDB(t, ep), cfg.Database, name+chschema.LocalSuffix)
			require.Positive(t, n, "shard %d holds none of %s: the sharding key does not spread", i+1, name)
		}
	}
	var split uint64
	require.NoError(t, other.QueryRow(ctx, "SELECT countIf(shards > 1) FROM (SELECT uniqExact(_shard_num) AS shards FROM "+
		table(cfg.TracesTableName)+" GROUP BY TraceId)").Scan(&split))
	require.Zero(t, split, "a trace's spans must share a shard")

	// Find a trace by id as a trace UI does: its time range from the lookup table, then its
	// spans in that range.
	id := traceID(7)
	hexID := fmt.Sprintf("%x", id[:])
	var from, to time.Time
	require.NoError(t, other.QueryRow(ctx, "SELECT min(Start), max(End) FROM "+table(cfg.TracesTableName+"_trace_id_ts")+
		" WHERE TraceId = ?", hexID).Scan(&from, &to))
	require.Equal(t, base.Add(7*time.Minute), from.UTC())
	require.NoError(t, other.QueryRow(ctx, "SELECT count() FROM "+table(cfg.TracesTableName)+
		" WHERE TraceId = ? AND Timestamp BETWEEN ? AND ?", hexID, from, to.Add(time.Second)).Scan(&count))
	require.Equal(t, uint64(spansPer), count)
}

// Streaming clients for the cluster outage tests.
const streamClients, streamRequests, streamRowsPer = 4, 25, 20

// streamLogs runs streamClients clients, each sending streamRequests requests of
// streamRowsPer rows with bodies unique across the run through send, which returns nil once
// its request is acknowledged. It returns once a third of all rows are acknowledged (the
// moment to break something); wait waits for the clients and returns the rows acknowledged.
func streamLogs(t *testing.T, ctx context.Context, send func(ctx context.Context, client int, ld plog.Logs) error) (wait func() int64) {
	t.Helper()
	var acknowledged atomic.Int64
	third := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for cl := range streamClients {
		wg.Go(func() {
			for r := range streamRequests {
				ld := plog.NewLogs()
				lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
				for i := range streamRowsPer {
					rec := lr.AppendEmpty()
					rec.SetTimestamp(1_764_000_000_000_000_000)
					rec.Body().SetStr(fmt.Sprintf("client %d request %d row %d", cl, r, i))
				}
				if err := send(ctx, cl, ld); err != nil {
					t.Errorf("client %d: %v", cl, err)
					return
				}
				if acknowledged.Add(streamRowsPer) >= streamClients*streamRequests*streamRowsPer/3 {
					once.Do(func() { close(third) })
				}
			}
		})
	}
	select {
	case <-third:
	case <-ctx.Done():
		t.Fatal("clients never got a third of the way")
	}
	return func() int64 {
		wg.Wait()
		return acknowledged.Load()
	}
}

// countLogs reads count() and uniqExact(Body) of cfg's logs table through endpoint.
func countLogs(t *testing.T, ctx context.Context, endpoint string, cfg *Config) (count, distinct uint64) {
	t.Helper()
	q := "SELECT count(), uniqExact(Body) FROM " + quotedTable(cfg.Database, cfg.LogsTableName)
	require.NoError(t, openDB(t, endpoint).QueryRow(ctx, q).Scan(&count, &distinct))
	return count, distinct
}
