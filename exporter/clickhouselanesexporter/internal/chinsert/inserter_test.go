package chinsert

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/sluicehq/sluice/internal/chlocal"
)

// Only an insert that failed after its first block was written has an unknown outcome; a
// failure before it (no connection, a column the driver cannot encode for the table) wrote
// nothing, and says so, so a lane can give its rows up without risking a duplicate.
func TestOutcomeUnknownOnlyAfterDataWasSent(t *testing.T) {
	ctx := context.Background()
	endpoint := chlocal.ForTest(t)
	in := New(Options{Addrs: []string{strings.TrimPrefix(endpoint, "tcp://")}, DialTimeout: 10 * time.Second, Deduplicate: true})
	t.Cleanup(func() { _ = in.Close() })
	if err := in.Exec(ctx, "CREATE TABLE IF NOT EXISTS chinsert_sent (d DateTime, n UInt64) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}

	// DateTime64 rows for a DateTime column: ch-go refuses them while inferring the types,
	// after the query was sent and before any block.
	var d proto.ColDateTime64
	d.WithPrecision(proto.PrecisionNano)
	d.Append(time.Unix(1, 0))
	var n proto.ColUInt64
	n.Append(1)
	err := in.Insert(ctx, "INSERT INTO chinsert_sent (d, n) VALUES", proto.Input{{Name: "d", Data: &d}, {Name: "n", Data: &n}})
	requireNotSent(t, err)

	dead := New(Options{Addrs: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	requireNotSent(t, dead.Insert(ctx, "INSERT INTO chinsert_sent (n) VALUES", proto.Input{{Name: "n", Data: &n}}))

	// A stream that breaks after its first block: the server may hold those rows.
	var ok proto.ColUInt64
	ok.Append(2)
	errSource := errors.New("the source failed")
	err = in.InsertStream(ctx, "INSERT INTO chinsert_sent (n) VALUES", proto.Input{{Name: "n", Data: &ok}}, "t1", 0,
		func() (bool, error) { return false, errSource })
	if !OutcomeUnknown(err) || !errors.Is(err, errSource) {
		t.Fatalf("after a block was sent, want an unknown outcome, got %v", err)
	}
}

func requireNotSent(t *testing.T, err error) {
	t.Helper()
	var ns *NotSentError
	if err == nil || OutcomeUnknown(err) || !errors.As(err, &ns) {
		t.Fatalf("want a NotSentError, not an unknown outcome; got %v", err)
	}
}

// A streamed insert sends every block the source fills, and ClickHouse takes them all.
func TestInsertStreamSendsEveryBlock(t *testing.T) {
	ctx := context.Background()
	endpoint := chlocal.ForTest(t)
	in := New(Options{Addrs: []string{strings.TrimPrefix(endpoint, "tcp://")}, DialTimeout: 10 * time.Second, Deduplicate: true})
	t.Cleanup(func() { _ = in.Close() })
	if err := in.Exec(ctx, "CREATE TABLE IF NOT EXISTS chinsert_stream (n UInt64) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	var c proto.ColUInt64
	fill := func(block int) {
		c.Reset()
		for i := range 10 {
			c.Append(uint64(block*10 + i))
		}
	}
	fill(0)
	block := 0
	next := func() (bool, error) {
		block++
		if block == 5 {
			return false, nil
		}
		fill(block)
		return true, nil
	}
	if err := in.InsertStream(ctx, "INSERT INTO chinsert_stream (n) VALUES", proto.Input{{Name: "n", Data: &c}}, "s1", 0, next); err != nil {
		t.Fatal(err)
	}
	conn, err := chlocal.Open(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var count, sum uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(n) FROM chinsert_stream").Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != 50 || sum != 49*50/2 {
		t.Fatalf("count %d sum %d, want 50 rows 0..49", count, sum)
	}
}
