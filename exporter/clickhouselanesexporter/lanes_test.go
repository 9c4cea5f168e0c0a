package clickhouselanesexporter

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"google.golang.org/grpc/codes"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/metadatatest"
	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/reqsize"
)

// tenantLogs is n log records of one tenant, each with a distinct body, under a resource
// carrying tenant.id.
func tenantLogs(tenant string, n int) plog.Logs {
	ld := plog.NewLogs()
	appendTenant(ld, tenant, n)
	return ld
}

var logSeq sync.Map // tenant → *int, so bodies never repeat within a test binary

func appendTenant(ld plog.Logs, tenant string, n int) {
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("tenant.id", tenant)
	rl.Resource().Attributes().PutStr("service.name", "svc-"+tenant)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords()
	v, _ := logSeq.LoadOrStore(tenant, new(int))
	seq := v.(*int)
	for range n {
		*seq++
		r := lr.AppendEmpty()
		r.SetTimestamp(1_764_000_000_000_000_000)
		r.Body().SetStr(fmt.Sprintf("%s log %d", tenant, *seq))
	}
}

// tenantCtx carries an X-Scope-OrgID as the sluice or otlp receiver with include_metadata would.
func tenantCtx(tenant string) context.Context {
	return client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"X-Scope-OrgID": {tenant}}),
	})
}

// settingsWithTelemetry gives the exporter an ID of its own (the memory budget is shared per
// exporter ID) and an in-memory meter.
func settingsWithTelemetry(t *testing.T) (exporter.Settings, *componenttest.Telemetry) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := metadatatest.NewSettings(tel)
	set.ID = component.NewIDWithName(NewFactory().Type(), t.Name())
	return set, tel
}

// newLogsExporter creates a logs exporter for cfg with its own ID and in-memory telemetry.
func newLogsExporter(t *testing.T, cfg *Config) (exporter.Logs, *componenttest.Telemetry) {
	t.Helper()
	set, tel := settingsWithTelemetry(t)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return exp, tel
}

// startLogsExporter is newLogsExporter, started and stopped at cleanup.
func startLogsExporter(t *testing.T, cfg *Config) (exporter.Logs, *componenttest.Telemetry) {
	t.Helper()
	exp, tel := newLogsExporter(t, cfg)
	startComponent(t, exp)
	return exp, tel
}

// tenantCounts reads the rows per service.name back.
func tenantCounts(t *testing.T, endpoint string, cfg *Config) map[string]uint64 {
	t.Helper()
	rows, err := openDB(t, endpoint).Query(context.Background(), fmt.Sprintf(
		"SELECT ServiceName, count() FROM %s GROUP BY ServiceName", quotedTable(cfg.Database, cfg.LogsTableName)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]uint64{}
	for rows.Next() {
		var s string
		var n uint64
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		got[s] = n
	}
	return got
}

// TestResourceAttributeLanesSplitAndOverflow: one request carrying three tenants is split
// into their lanes and every row lands; with max_lanes 2, the third tenant shares the
// overflow lane, which is counted.
func TestResourceAttributeLanesSplitAndOverflow(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName, cfg.Lanes.MaxLanes = LaneByResourceAttribute, "tenant.id", 2
	exp, tel := startLogsExporter(t, cfg)

	ld := tenantLogs("a", 3)
	appendTenant(ld, "b", 2)
	appendTenant(ld, "c", 4)
	appendTenant(ld, "a", 1) // a second resource of tenant a joins a's part
	if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"svc-a": 4, "svc-b": 2, "svc-c": 4}
	if got := tenantCounts(t, endpoint, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows per tenant = %v, want %v", got, want)
	}
	metadatatest.AssertEqualSluiceExporterLanesActive(t, tel, []metricdata.DataPoint[int64]{{
		Value: 3, Attributes: attribute.NewSet(attribute.String("signal", "logs")),
	}}, metricdatatestIgnoreTime...)
	metadatatest.AssertEqualSluiceExporterLanesOverflow(t, tel, []metricdata.DataPoint[int64]{{
		Value: 4, Attributes: attribute.NewSet(attribute.String("signal", "logs")),
	}}, metricdatatestIgnoreTime...)
	inserted := rowsInsertedByLane(t, tel)
	if inserted["a"] != 4 || inserted["b"] != 2 || inserted[overflowLane] != 4 {
		t.Fatalf("rows inserted by lane = %v", inserted)
	}
}

func rowsInsertedByLane(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	return sumByAttribute(t, tel, "otelcol_sluice_exporter_rows_inserted", "lane")
}

// TestOnInsertAcknowledgesCommittedRows: when a call returns nil its rows can be read back at
// once, and concurrent calls share inserts instead of making one each.
func TestOnInsertAcknowledgesCommittedRows(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Lanes.FlushInterval = 300 * time.Millisecond
	cfg.Lanes.FlushQuiet = 0 // goroutines starting on a busy machine must not split the batch
	exp, tel := startLogsExporter(t, cfg)
	conn := openDB(t, endpoint)

	if err := exp.ConsumeLogs(context.Background(), tenantLogs("solo", 5)); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, conn, cfg.Database, cfg.LogsTableName); n != 5 {
		t.Fatalf("acknowledged 5 rows, %d readable", n)
	}

	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- exp.ConsumeLogs(context.Background(), tenantLogs(fmt.Sprint("c", i), 3))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, conn, cfg.Database, cfg.LogsTableName); n != 5+callers*3 {
		t.Fatalf("%d rows readable, want %d", n, 5+callers*3)
	}
	m, err := tel.GetMetric("otelcol_sluice_exporter_insert_duration")
	if err != nil {
		t.Fatal(err)
	}
	var inserts uint64
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		inserts += dp.Count
	}
	// 21 calls; with a 300 ms batching window the 20 concurrent ones share a few inserts.
	if inserts >= 1+callers {
		t.Fatalf("%d inserts for %d calls: calls did not share inserts", inserts, 1+callers)
	}
}

// hangingServer accepts TCP connections and never answers: the worst kind of sick
// destination, which only timeouts can detect.
func hangingServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "tcp://" + ln.Addr().String()
}

// isolationConfig: lanes by X-Scope-OrgID, tenant "sick" routed to a server that never
// answers, everyone else to the real one. Timeouts are short so the test is quick.
func isolationConfig(t *testing.T, endpoint string) *Config {
	cfg := testConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByMetadata, "X-Scope-OrgID"
	cfg.DialTimeout = 300 * time.Millisecond
	cfg.Retry = RetryConfig{MaxAttempts: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	cfg.Breaker = BreakerConfig{FailureThreshold: 2, CoolDown: time.Minute}
	cfg.Routes = []RouteConfig{{Name: "sick", LaneKeys: []string{"sick", "sick2"}, Endpoint: hangingServer(t)}}
	return cfg
}

// TestSickDestinationIsIsolated: a tenant whose ClickHouse hangs gets 503s and then fast
// breaker refusals, while the healthy tenant on the default destination keeps writing.
func TestSickDestinationIsIsolated(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := isolationConfig(t, endpoint)
	exp, tel := startLogsExporter(t, cfg)

	if err := exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 2)); err != nil {
		t.Fatal(err)
	}
	// Two attempts time out: 503 with a hint, and the breaker opens.
	requireRetryable(t, exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 2)), codes.Unavailable)
	// Now the sick lane refuses before queueing, with the time until its probe (~1 min).
	start := time.Now()
	err := exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 2))
	refusedIn := time.Since(start)
	if hint := requireRetryable(t, err, codes.Unavailable); hint < 30*time.Second {
		t.Fatalf("retry hint %s, want the time until the probe (about a minute)", hint)
	}
	// The healthy tenant is untouched: its rows keep landing.
	for range 3 {
		if err := exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 2)); err != nil {
			t.Fatalf("healthy tenant: %v", err)
		}
	}
	if got := tenantCounts(t, endpoint, cfg)["svc-healthy"]; got != 8 {
		t.Fatalf("healthy tenant has %d rows, want 8", got)
	}
	t.Logf("breaker refusal answered in %s", refusedIn)

	sickLane := attribute.NewSet(attribute.String("destination", "sick"), attribute.String("lane", "sick"),
		attribute.String("signal", "logs"), attribute.String("state", "open"))
	metadatatest.AssertEqualSluiceExporterBreakerTransitions(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: sickLane},
	}, metricdatatestIgnoreTime...)
	if byLane, byReason := sumByAttribute(t, tel, "otelcol_sluice_exporter_rows_refused", "lane"),
		refusedByReason(t, tel); len(byLane) != 1 || byLane["sick"] != 2 || byReason["breaker_open"] != 2 {
		t.Fatalf("rows refused by lane %v, by reason %v; want 2 rows of lane sick, reason breaker_open", byLane, byReason)
	}
}

// TestFullQueueRefusesWith429: with acknowledge on_enqueue and a destination that never
// answers, a lane's queue fills and then refuses with RESOURCE_EXHAUSTED and a hint; the
// healthy lane still writes; shutdown reports the rows it could not write.
func TestFullQueueRefusesWith429(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := isolationConfig(t, endpoint)
	cfg.Acknowledge = AckOnEnqueue
	cfg.Lanes.MaxQueueRows, cfg.Lanes.FlushRows = 2, 2
	cfg.DrainTimeout = 200 * time.Millisecond
	exp, tel := newLogsExporter(t, cfg)
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}

	// The worker holds at most one batch (with on_enqueue it retries until shutdown) and
	// the queue one more request of 2 rows: the third request is refused at the latest.
	accepted := 0
	var refusal error
	for range 3 {
		if refusal = exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 2)); refusal != nil {
			break
		}
		accepted++
	}
	requireRetryable(t, refusal, codes.ResourceExhausted)
	if accepted < 1 || accepted > 2 {
		t.Fatalf("sick lane accepted %d requests before refusing, want 1 or 2", accepted)
	}
	if err := exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 2)); err != nil {
		t.Fatalf("healthy tenant: %v", err)
	}
	// Acknowledged on enqueue: the rows land a flush later.
	require.Eventually(t, func() bool { return tenantCounts(t, endpoint, cfg)["svc-healthy"] == 2 },
		30*time.Second, 20*time.Millisecond, "the healthy tenant's rows never landed")

	err := exp.Shutdown(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d rows could not be written", 2*accepted)) {
		t.Fatalf("shutdown should report the %d rows it could not write, got %v", 2*accepted, err)
	}
	reasons := refusedByReason(t, tel)
	if reasons["queue_full"] != 2 || reasons["shutdown"] != int64(2*accepted) {
		t.Fatalf("refused rows by reason = %v, want queue_full 2 and shutdown %d", reasons, 2*accepted)
	}
}

// TestBudgetBoundsAllLanes: the byte budget is shared, so once one lane holds it, another
// lane is refused with RESOURCE_EXHAUSTED even though its own queue is empty.
func TestBudgetBoundsAllLanes(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := isolationConfig(t, endpoint)
	cfg.Acknowledge = AckOnEnqueue
	one := logsSignal.size(tenantLogs("sick", 2))
	cfg.Lanes.MaxQueueBytes = one + 16 // sequence numbers in bodies vary the size a little
	cfg.Lanes.MemoryBudget = int64(one + one/2)
	cfg.DrainTimeout = 100 * time.Millisecond
	exp, tel := newLogsExporter(t, cfg)
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 2)); err != nil {
		t.Fatal(err)
	}
	requireRetryable(t, exp.ConsumeLogs(tenantCtx("sick2"), tenantLogs("sick", 2)), codes.ResourceExhausted)
	requireRetryable(t, exp.ConsumeLogs(tenantCtx("healthy"), tenantLogs("healthy", 2)), codes.ResourceExhausted)
	if err := exp.Shutdown(context.Background()); err == nil {
		t.Fatal("shutdown should report the sick lane's rows")
	}
	if got := refusedByReason(t, tel)["budget"]; got != 4 {
		t.Fatalf("%d rows refused for the budget, want 4", got)
	}
}

func refusedByReason(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	return sumByAttribute(t, tel, "otelcol_sluice_exporter_rows_refused", "reason")
}

// sumByAttribute adds up an int64 counter's data points by the value of one attribute.
func sumByAttribute(t *testing.T, tel *componenttest.Telemetry, metric, attr string) map[string]int64 {
	t.Helper()
	m, err := tel.GetMetric(metric)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key(attr))
		sums[v.AsString()] += dp.Value
	}
	return sums
}

var metricdatatestIgnoreTime = []metricdatatest.Option{metricdatatest.IgnoreTimestamp()}

// TestSplitRequestRefusedWholeWhenALaneIsOpen: a request whose resources span a healthy and a
// failing lane is refused as a whole, so the client's retry cannot duplicate the healthy rows.
func TestSplitRequestRefusedWholeWhenALaneIsOpen(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := isolationConfig(t, endpoint)
	cfg.Lanes.Key, cfg.Lanes.KeyName = LaneByResourceAttribute, "tenant.id"
	exp, _ := startLogsExporter(t, cfg)
	// Trip the sick lane's breaker.
	requireRetryable(t, exp.ConsumeLogs(context.Background(), tenantLogs("sick", 1)), codes.Unavailable)

	mixed := tenantLogs("healthy", 3)
	appendTenant(mixed, "sick", 2)
	requireRetryable(t, exp.ConsumeLogs(context.Background(), mixed), codes.Unavailable)
	if err := exp.ConsumeLogs(context.Background(), tenantLogs("healthy", 1)); err != nil {
		t.Fatal(err)
	}
	if got := tenantCounts(t, endpoint, cfg)["svc-healthy"]; got != 1 {
		t.Fatalf("healthy tenant has %d rows, want only the 1 of its own request", got)
	}
}

// TestRefusalFloodLogsLittle: a flood of breaker refusals writes about one log line per
// second per message, both the exporter's own and exporterhelper's "Exporting failed".
func TestRefusalFloodLogsLittle(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := isolationConfig(t, endpoint)
	set, _ := settingsWithTelemetry(t)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	startComponent(t, exp)
	const refusals = 200
	for range refusals {
		requireRetryable(t, exp.ConsumeLogs(tenantCtx("sick"), tenantLogs("sick", 1)), codes.Unavailable)
	}
	helper := logs.FilterMessageSnippet("Exporting failed").Len()
	own := logs.FilterMessageSnippet("Refusing rows").Len()
	if helper == 0 || helper > refusals/10 || own == 0 || own > refusals/10 {
		t.Fatalf("%d refusals logged %d exporterhelper lines and %d refusal lines; want a few of each", refusals, helper, own)
	}
}

// TestReceiverSizeHint: a size passed along by the receiver (internal/reqsize) weighs the
// request instead of measuring it, but only while the item count still matches.
func TestReceiverSizeHint(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := testConfig(t, endpoint)
	cfg.Lanes.MaxQueueBytes = 1 << 20
	exp, _ := startLogsExporter(t, cfg)
	ld := tenantLogs("hint", 3)
	huge := reqsize.NewContext(context.Background(), reqsize.Size{Items: 3, Bytes: 2 << 20})
	if err := exp.ConsumeLogs(huge, ld); !consumererror.IsPermanent(err) || !strings.Contains(err.Error(), "exceeds lane") {
		t.Fatalf("a request weighed 2 MiB by its receiver must be too large for a 1 MiB lane, got %v", err)
	}
	stale := reqsize.NewContext(context.Background(), reqsize.Size{Items: 4, Bytes: 2 << 20})
	if err := exp.ConsumeLogs(stale, ld); err != nil {
		t.Fatalf("a hint for another item count must be ignored and the request measured: %v", err)
	}
}
