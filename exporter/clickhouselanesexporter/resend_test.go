package clickhouselanesexporter

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
	"github.com/sluicehq/sluice/internal/chlocal"
	"github.com/sluicehq/sluice/internal/loadgen"
)

// TestResendSetAbsorbsEachRememberedRecordOnce: a remembered record absorbs one resend (two
// identical records, two); an unknown record is written; once the window ends nothing is
// absorbed, the memory is freed and the summary reported once.
func TestResendSetAbsorbsEachRememberedRecordOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := []byte("pa"), []byte("pb")
		var summaries [][2]int
		s := newResendSet([]walRecent{{key: resendKeyOf(a)}, {key: resendKeyOf(a)}, {key: resendKeyOf(b)}}, time.Minute,
			func(remembered, absorbed int) { summaries = append(summaries, [2]int{remembered, absorbed}) })
		assert.True(t, s.absorb(a))
		assert.True(t, s.absorb(a), "two identical records: two resends")
		assert.False(t, s.absorb(a), "a third copy is new data")
		assert.False(t, s.absorb([]byte("pc")))

		time.Sleep(time.Minute)
		synctest.Wait()
		assert.False(t, s.absorb(b), "after the window every append is written")
		s.mu.Lock()
		assert.Nil(t, s.pending, "the set is freed at the end of the window")
		s.mu.Unlock()
		s.end() // the log's close, later: reported once
		assert.Equal(t, [][2]int{{3, 2}}, summaries)

		assert.Nil(t, newResendSet(nil, time.Minute, nil), "nothing to remember")
		assert.Nil(t, newResendSet([]walRecent{{key: resendKeyOf(a)}}, 0, nil), "resend_window 0 turns it off")
		assert.False(t, (*resendSet)(nil).absorb(a))
	})
}

// TestRecentRecordsKeepTheWindowBeforeTheLastRecord: of the records the log's recovery scan
// hands out at the next open, those appended within the window before the last one are
// remembered, committed ones still on disk included.
func TestRecentRecordsKeepTheWindowBeforeTheLastRecord(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var now time.Time
	dir := t.TempDir()
	log, _, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever, Now: func() time.Time { return now }})
	require.NoError(t, err)
	var want []resendKey
	for i, at := range []time.Duration{0, time.Minute, 3 * time.Minute, 3*time.Minute + time.Second, 4 * time.Minute} {
		now = start.Add(at)
		p := fmt.Appendf(nil, "record %d", i)
		_, err := log.Append(p)
		require.NoError(t, err)
		if at >= 2*time.Minute {
			want = append(want, resendKeyOf(p))
		}
	}
	require.NoError(t, log.SaveState(wal.State{Committed: 4})) // in one segment: still on disk
	require.NoError(t, log.Close())

	var recent recentRecords
	log, _, err = wal.Open(dir, wal.Options{Sync: wal.SyncNever, OnRecover: recent.add})
	require.NoError(t, err)
	defer log.Close()
	var got []resendKey
	for _, r := range recent.within(2 * time.Minute) {
		got = append(got, r.key)
	}
	assert.Equal(t, want, got)
}

// TestWALRecordIsTheSameForAnExactResend: what makes a resend recognisable. A client resends
// the same request bytes; decoding them as the receiver does and converting the pdata as a
// lane does gives the same record each time.
func TestWALRecordIsTheSameForAnExactResend(t *testing.T) {
	traces, logs := newRecordCodec(&tracesSignal), newRecordCodec(&logsSignal)
	for _, sig := range []loadgen.Signal{loadgen.Traces, loadgen.Logs} {
		tmpl, err := loadgen.NewTemplate(sig, "acme", loadgen.Shape{ItemsPerRequest: 100, Attributes: 5})
		require.NoError(t, err)
		record := func(seq uint64) []byte {
			body := tmpl.Render(nil, seq)
			switch sig {
			case loadgen.Traces:
				req := ptraceotlp.NewExportRequest()
				require.NoError(t, req.UnmarshalProto(bytes.Clone(body)))
				return traces.encode(nil, req.Traces())
			default:
				req := plogotlp.NewExportRequest()
				require.NoError(t, req.UnmarshalProto(bytes.Clone(body)))
				return logs.encode(nil, req.Logs())
			}
		}
		first, resent, next := record(1), record(1), record(2)
		assert.Equal(t, first, resent, "%s: a resend makes the same record", sig)
		assert.Equal(t, resendKeyOf(first), resendKeyOf(resent), "%s: and the same key", sig)
		assert.NotEqual(t, resendKeyOf(first), resendKeyOf(next), "%s: another request, another key", sig)
	}
}

// TestOnWALResendAfterACrashIsWrittenOnce: a lane crashes with records in its log whose
// answers were lost — two inserted into ClickHouse before the log's cursor moved, two not
// inserted at all. The clients resend all four after the restart: each is acknowledged
// without being written again, and the rows land once, next to a new request's.
func TestOnWALResendAfterACrashIsWrittenOnce(t *testing.T) {
	endpoint := chlocal.ForTest(t)
	cfg := walTestConfig(t, endpoint)
	cfg.Lanes.FlushRows, cfg.Lanes.FlushInterval = 50, time.Hour // a batch is exactly 2 requests
	set, tel := settingsWithTelemetry(t)

	first, crashed := newCrashingWALLogsExporter(t, set, cfg)
	for i := range 4 {
		require.NoError(t, first.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("answer lost ", i), 25)))
		if i == 1 {
			<-crashed // the first two are in ClickHouse, not committed in the log
		}
	}
	require.NoError(t, first.Shutdown(context.Background()))

	second := newWALLogsExporter(t, set, cfg)
	require.NoError(t, second.ConsumeLogs(context.Background(), uniqueLogs("new", 25)))
	// The clients' resends, in another order than the first time: written again, they would
	// make other batches than those in ClickHouse, whose tokens could not drop them.
	for _, i := range []int{3, 0, 2, 1} {
		require.NoError(t, second.ConsumeLogs(context.Background(), uniqueLogs(fmt.Sprint("answer lost ", i), 25)))
	}
	require.NoError(t, second.Shutdown(context.Background())) // drains the log
	count, distinct := countAndDistinct(t, endpoint, cfg)
	assert.Equal(t, [2]uint64{125, 125}, [2]uint64{count, distinct}, "each resend written once")
	assert.Equal(t, int64(4), metricByLane(tel, "otelcol_sluice_exporter_wal_resends_absorbed")["logs"])

}

// BenchmarkRememberRecent: what opening a lane's log costs a start with remembering (the
// recovery scan hands its records to recentRecords), for a log of 64 MiB of 20 KB records
// (page cache warm).
func BenchmarkRememberRecent(b *testing.B) {
	dir := b.TempDir()
	log, _, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
	require.NoError(b, err)
	p := bytes.Repeat([]byte("span "), 4000)
	const total = 64 << 20
	for i := 0; i < total/len(p); i++ {
		p[0] = byte(i)
		_, err := log.Append(p)
		require.NoError(b, err)
	}
	require.NoError(b, log.Close())
	b.SetBytes(total)
	for b.Loop() {
		var recent recentRecords
		log, _, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever, OnRecover: recent.add})
		if err != nil {
			b.Fatal(err)
		}
		recent.within(time.Hour)
		if err := log.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
