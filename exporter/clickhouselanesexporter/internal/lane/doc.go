// Package lane is the bounded queue and batcher each lane of the clickhouselanes exporter
// is built on, and the byte budget all lanes share.
//
// # Guarantees
//
//   - Offer never blocks. It accepts an Item or refuses it at once (ErrQueueFull,
//     ErrBudget, ErrTooLarge, ErrClosed), and a refusal leaves the queue and the Budget
//     unchanged (about 20 ns, no allocation).
//   - A Queue never holds more than its MaxRows rows or MaxBytes bytes, and the Budget is
//     never exceeded, whatever the number of concurrent offers or of lanes.
//   - Take returns a batch of whole items, oldest first, as soon as FlushRows rows are
//     queued or the oldest item has waited FlushAge; after Close it drains what is left
//     without waiting, then returns ErrClosed.
//   - Every accepted Item's Done is called exactly once, outside any lock: by Complete with
//     the outcome of the insert that carried it, or by Discard.
//   - A batch keeps its bytes reserved in the Budget until Complete, so the Budget bounds
//     everything the exporter holds: queued and being inserted.
//
// # Wiring it into the exporter (design note for the next engineer)
//
// One lane = one Queue + one breaker.Breaker + one worker goroutine + one destination.
// One Budget (the exporter's memory limit) is passed to every lane's NewQueue.
//
// Consume path, per lane part of a request (a request maps to one part per lane key; with
// the default signal key or a tenant from client metadata that is a single part):
//
//	if err := l.breaker.Check(); err != nil      // *breaker.OpenError
//		→ 503 UNAVAILABLE, RetryInfo = err.RetryAfter() (backpressure.Unavailable)
//	switch err := l.queue.Offer(lane.Item[P]{Payload: p, Rows: n, Bytes: size, Done: done}) {
//	case ErrQueueFull, ErrBudget → 429 RESOURCE_EXHAUSTED with RetryInfo (backpressure.QueueFull;
//	                               FlushAge is a fair hint: a batch leaves at least that
//	                               often), counted as refused{reason=queue_full|budget}
//	case ErrTooLarge             → split the part and offer the pieces, or make config
//	                               validation guarantee max request rows ≤ lane max rows
//	case ErrClosed               → the lane was just retired as idle: look it up again, retry once
//	}
//
// Acknowledgement: with on_insert, make an Ack per request (NewAck(parts)), pass ack.Done
// as each Item's Done, call ack.Done(refusal) yourself for a refused part, and return
// ack.Wait(ctx): many requests share one insert and all of them wake when it commits. With
// on_enqueue, Done is nil and the call returns after Offer. Open question for the exporter:
// when a request splits across lanes (resource-attribute keys) and only some parts are
// refused, the accepted parts still get written while the client retries the whole
// request, so those rows are duplicated; consider checking every part's breaker and queue
// before offering any, or answering such a request only after the accepted parts commit
// (the Ack already waits for them) and documenting the duplicate window.
//
// The worker, one goroutine per lane, owned by the exporter's WaitGroup:
//
//	var batch []lane.Item[P]
//	for {
//		batch, err = q.Take(ctx, batch[:0])  // ErrClosed once drained, or ctx.Err()
//		if err != nil { return }
//		q.Complete(batch, insertBatch(ctx, batch))
//	}
//
// insertBatch makes a bounded number of attempts with backoff. Each attempt takes a token
// (tok, err := br.Allow()), runs the insert under its own short timeout (default 3 s,
// context.WithTimeout, nothing else's), and reports tok.Done(err). When Allow refuses,
// stop retrying and complete the batch at once with
// backpressure.Unavailable(msg, openErr.RetryAfter()): waiting clients get a 503 with the
// time until the probe instead of the lane being held through the retry
// budget (the first post-mortem). A permanent ClickHouse error (breaker.Settings.IsPermanent,
// classified by chinsert) completes the batch with consumererror.NewPermanent → 400 and is
// counted as dropped; it does not trip the breaker.
//
// Shutdown: Close every queue (new offers get ErrClosed → 503), let the workers drain
// until the shutdown deadline, then cancel their context (cancelled inserts do not count
// against the breaker) and call Discard(err) on each queue: its Stats are what could not
// be written, to report and log. Done is still called for each discarded item, so no
// on_insert request is left waiting.
//
// Idle lanes: a lane whose Stats are zero and whose worker has had no batch for the idle
// timeout is removed from the lane map, then Closed; its worker returns with ErrClosed.
// The map lock must not be held while calling Offer.
//
// Telemetry: Stats for the queue rows/bytes gauges, Budget.Used for the memory gauge,
// breaker.Settings.OnTransition for the breaker state gauge and transitions counter
// (generation tells the newer of two racing observations apart).
//
// Memory: queued and in-flight payloads ≤ Budget.Limit; per lane ≤ MaxBytes queued plus
// one batch in flight. Bytes should be the memory a payload holds, not its wire size.
package lane
