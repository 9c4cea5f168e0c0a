package chlocal

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"
)

// syncInsert makes inserts synchronous: this build defaults to
// async_insert=1, and these tests read back (or crash) right after inserting.
func syncInsert(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"async_insert": 0,
	}))
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openT(t *testing.T, ctx context.Context, endpoint string) driver.Conn {
	t.Helper()
	conn, err := Open(ctx, endpoint)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// uniqueTable returns a table name that cannot collide on a shared server.
func uniqueTable() string {
	return fmt.Sprintf("chlocal_test_%d", time.Now().UnixNano())
}

func TestVersionIs26_7(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := StartForTest(t)
	conn := openT(t, ctx, s.Endpoint())

	var v string
	require.NoError(t, conn.QueryRow(ctx, "SELECT version()").Scan(&v))
	require.True(t, strings.HasPrefix(v, "26.7."), "version %q", v)
	// The native protocol is what answered, on the advertised port.
	require.Equal(t, "tcp://"+s.TCPAddr(), s.Endpoint())
	require.Equal(t, uint16(mustPort(t, s.TCPAddr())), scanUint16(t, ctx, conn, "SELECT getServerPort('tcp_port')"))
	require.Equal(t, uint16(mustPort(t, s.HTTPAddr())), scanUint16(t, ctx, conn, "SELECT getServerPort('http_port')"))
}

func TestSchemaSmoke(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	conn := openT(t, ctx, ForTest(t))
	table := uniqueTable()
	require.NoError(t, conn.Exec(ctx, `CREATE TABLE `+table+` (
		ts DateTime64(9),
		attrs Map(LowCardinality(String), String),
		body String CODEC(ZSTD(1))
	) ENGINE = MergeTree ORDER BY ts`))
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })

	type row struct {
		TS    time.Time         `ch:"ts"`
		Attrs map[string]string `ch:"attrs"`
		Body  string            `ch:"body"`
	}
	base := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	want := []row{
		{base, map[string]string{"service.name": "api", "k": "v"}, "first"},
		{base.Add(time.Nanosecond), map[string]string{}, "second: nanosecond later"},
		{base.Add(time.Hour), map[string]string{"emoji": "✓"}, ""},
	}
	batch, err := conn.PrepareBatch(syncInsert(ctx), "INSERT INTO "+table)
	require.NoError(t, err)
	for _, r := range want {
		require.NoError(t, batch.Append(r.TS, r.Attrs, r.Body))
	}
	require.NoError(t, batch.Send())

	var got []row
	require.NoError(t, conn.Select(ctx, &got, "SELECT ts, attrs, body FROM "+table+" ORDER BY ts"))
	require.Len(t, got, len(want))
	for i := range want {
		require.True(t, want[i].TS.Equal(got[i].TS), "row %d ts %v != %v", i, got[i].TS, want[i].TS)
		require.Equal(t, want[i].Attrs, got[i].Attrs, "row %d", i)
		require.Equal(t, want[i].Body, got[i].Body, "row %d", i)
	}
}

func TestRestartKeepsDataAndPorts(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := StartForTest(t)
	tcp, http := s.TCPAddr(), s.HTTPAddr()

	conn := openT(t, ctx, s.Endpoint())
	createAndInsert(t, ctx, conn, 3)

	require.NoError(t, s.Restart(ctx))
	require.Equal(t, tcp, s.TCPAddr())
	require.Equal(t, http, s.HTTPAddr())

	// The client opened before the restart reconnects to the same address:
	// its pool discards the dead idle connection and dials again.
	require.Equal(t, uint64(3), count(t, ctx, conn))
}

func TestKillThenRestartKeepsCommittedData(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := StartForTest(t)
	conn := openT(t, ctx, s.Endpoint())
	createAndInsert(t, ctx, conn, 5)
	require.NoError(t, conn.Close())

	died := s.Done()
	require.NoError(t, s.Kill())
	select {
	case <-died:
	default:
		t.Fatal("Kill returned but the process is still running")
	}
	_, err := net.DialTimeout("tcp", s.TCPAddr(), time.Second)
	require.Error(t, err, "port still accepting after Kill")

	require.NoError(t, s.Restart(ctx))
	conn = openT(t, ctx, s.Endpoint())
	require.Equal(t, uint64(5), count(t, ctx, conn))
}

func TestPauseStallsAndResumeRecovers(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := StartForTest(t)
	conn := openT(t, ctx, s.Endpoint())
	require.NoError(t, conn.Ping(ctx))

	require.NoError(t, s.Pause())
	stalled, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := conn.Ping(stalled)
	cancel()
	require.Error(t, err, "a paused server must not answer")

	require.NoError(t, s.Resume())
	// The timed-out connection is poisoned; a fresh one must work.
	conn2 := openT(t, ctx, s.Endpoint())
	require.NoError(t, conn2.Ping(ctx))
}

func TestStopWhilePaused(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s, err := Start(ctx, Options{DataDir: t.TempDir(), StopGrace: 20 * time.Second})
	require.NoError(t, err)
	require.NoError(t, s.Pause())
	// Stop must continue the process so it can act on SIGTERM, and so finish
	// well within the grace period instead of escalating to SIGKILL.
	require.NoError(t, s.Stop(ctx))
	require.NoError(t, s.Stop(ctx), "stopping twice is harmless")
}

func TestStartFailureIncludesLog(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	var log strings.Builder
	_, err = Start(ctx, Options{DataDir: t.TempDir(), TCPPort: mustPort(t, busy.Addr().String()), Log: &log})
	require.Error(t, err)
	require.Contains(t, err.Error(), "exited during startup")
	require.Contains(t, err.Error(), "Address already in use", "the log tail should explain why")
	// Start has waited for the process, so the copy to Options.Log is complete.
	require.Contains(t, log.String(), "Address already in use")
}

func TestOpenRejectsNonNativeEndpoint(t *testing.T) {
	_, err := Open(context.Background(), "http://user:secret@127.0.0.1:8123")
	require.ErrorContains(t, err, "not a native-protocol")
	require.NotContains(t, err.Error(), "secret", "passwords must not leak into errors")
}

func createAndInsert(t *testing.T, ctx context.Context, conn driver.Conn, n int) {
	t.Helper()
	require.NoError(t, conn.Exec(ctx, "CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x"))
	batch, err := conn.PrepareBatch(syncInsert(ctx), "INSERT INTO t")
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, batch.Append(uint64(i)))
	}
	require.NoError(t, batch.Send())
}

func count(t *testing.T, ctx context.Context, conn driver.Conn) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM t").Scan(&n))
	return n
}

func scanUint16(t *testing.T, ctx context.Context, conn driver.Conn, q string) uint16 {
	t.Helper()
	var v uint16
	require.NoError(t, conn.QueryRow(ctx, q).Scan(&v))
	return v
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	var n int
	_, err = fmt.Sscan(p, &n)
	require.NoError(t, err)
	return n
}
