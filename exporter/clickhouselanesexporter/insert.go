package clickhouselanesexporter

// A lane's insert of one batch: attempts behind the breaker, retried with backoff, settling an
// unknown outcome, through a blockWriter (the destination, destination.go).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/breaker"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/chinsert"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
	"github.com/sluicehq/sluice/internal/backpressure"
)

// blockWriter is what a lane needs of ClickHouse: fill the blocks of an insert path from src
// and insert them, reporting each table's attempt. A destination is one; tests script one to
// drive the retry, unknown-outcome and breaker logic deterministically.
type blockWriter interface {
	insert(ctx context.Context, src blockSource, report func(insertResult)) error
}

// insert writes one batch. Each attempt needs the breaker's permission and is bounded by
// insert_timeout per table. With acknowledge on_insert a batch gets retry::max_attempts
// attempts and then fails back to its waiting callers; with on_enqueue (whose callers are
// gone) it is retried until it is written or shutdown cancels ctx.
//
// One exception to giving up: once an attempt's outcome is unknown (the data was sent and
// the answer lost, so it may be committed), a 503 would make the callers resend rows that
// may already be in ClickHouse, batched with other neighbours under another deduplication
// token: a duplicate. So, with deduplication on, such a batch is retried as it is — same
// blocks, same tokens, settled by ClickHouse's deduplication — for as long as any of its
// callers still waits. Meanwhile the breaker and the full queue refuse new rows, which is
// safe: those were never accepted. Once every caller has given up, the batch fails as usual:
// settling it then could only add rows the clients are about to resend.
func (l *lane[T]) insert(ctx context.Context, batch []queue.Item[T], report func(insertResult)) error {
	source := func() blockSource {
		return blockSource{fill: func(tables []*tableWriter) (bool, error) {
			blocks := blocksOf(tables)
			for _, it := range batch {
				l.e.sig.fill(blocks, it.Payload)
			}
			return false, nil
		}}
	}
	return l.insertFrom(ctx, batch, queue.Total(batch).Bytes, source, report)
}

// insertFrom is insert with the rows from a new source per attempt (bytes: their weight, for
// telemetry); batch is nil when they are not in memory (on_wal), whose callers are gone.
func (l *lane[T]) insertFrom(ctx context.Context, batch []queue.Item[T], bytes int, source func() blockSource, report func(insertResult)) error {
	rc := l.e.cfg.Retry
	backoff := rc.InitialInterval
	var last error
	unsettled := false
	hold := func() bool {
		return !l.e.ackOnInsert() || (unsettled && !queue.AllAbandoned(batch))
	}
	for attempt := 1; ; attempt++ {
		tok, err := l.breaker.Allow()
		if err != nil {
			var open *breaker.OpenError
			errors.As(err, &open)
			if !hold() {
				return l.giveUp(last, open.RetryAfter(), batch)
			}
			if !sleepCtx(ctx, open.RetryAfter()) {
				return l.unavailable(ctx.Err(), l.e.cfg.Breaker.CoolDown)
			}
			continue
		}
		err = l.writer.insert(ctx, source(), report)
		tok.Done(err)
		l.schemaFault.Store(chinsert.IsSchema(err))
		if err != nil && ctx.Err() == nil {
			l.e.tel.insertFailed(l, err)
		}
		switch {
		case err == nil:
			l.e.tel.committed(l, bytes)
			return nil
		case isPermanent(err):
			return backpressure.Invalid(err.Error())
		case ctx.Err() != nil:
			return l.unavailable(ctx.Err(), l.e.cfg.Breaker.CoolDown)
		}
		last = err
		unsettled = unsettled || (l.e.cfg.Deduplicate && chinsert.OutcomeUnknown(err))
		if !hold() && attempt >= rc.MaxAttempts {
			return l.giveUp(fmt.Errorf("%d attempts failed, last: %w", attempt, err), l.e.cfg.Breaker.CoolDown, batch)
		}
		if !sleepCtx(ctx, backoff) {
			return l.unavailable(ctx.Err(), l.e.cfg.Breaker.CoolDown)
		}
		backoff = min(2*backoff, rc.MaxInterval)
	}
}

// giveUp answers a batch's callers with the 503 for cause, counting the rows as refused for
// reason schema when the table is what refuses them (other failures are the breaker's).
func (l *lane[T]) giveUp(cause error, retryAfter time.Duration, batch []queue.Item[T]) error {
	if chinsert.IsSchema(cause) {
		l.e.tel.refused(l, reasonSchema, queue.Total(batch).Rows)
	}
	return l.unavailable(cause, retryAfter)
}

// unavailable is the 503 for rows this lane could not write now: the destination is failing.
func (l *lane[T]) unavailable(cause error, retryAfter time.Duration) error {
	msg := fmt.Sprintf("ClickHouse destination %q unavailable for lane %q", l.dest.name, l.label)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return backpressure.Unavailable(msg, retryAfter)
}

// reportInsert counts one table's insert attempt and its outcome.
func (l *lane[T]) reportInsert(r insertResult) { l.e.tel.inserted(l, r) }

// reportUnlessRejected counts an attempt whose permanent rejection will be isolated by
// halving the batch: the rows are not dropped yet, and the halves record what is.
func (l *lane[T]) reportUnlessRejected(r insertResult) {
	if isPermanent(r.err) {
		l.e.tel.attempted(l, r)
		return
	}
	l.e.tel.inserted(l, r)
}

func isPermanent(err error) bool {
	ok, _ := chinsert.Permanent(err)
	return ok
}

// sleepCtx waits d or until ctx ends, and reports whether the full wait elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
