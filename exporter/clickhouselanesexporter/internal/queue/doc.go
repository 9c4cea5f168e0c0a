// Package queue is the in-memory queue of a clickhouselanes lane: a bounded queue with its
// batcher (Queue, holding Items), the byte Budget every lane's queue and every write-ahead
// log append shares, and the Ack that gathers the completions of the items one request was
// split into.
//
// # Guarantees
//
//   - Offer never blocks. It accepts an Item or refuses it at once (ErrQueueFull,
//     ErrBudget, ErrTooLarge, ErrClosed), and a refusal leaves the queue and the Budget
//     unchanged (about 20 ns, no allocation).
//   - A Queue never holds more than its MaxRows rows or MaxBytes bytes, and the Budget is
//     never exceeded, whatever the number of concurrent offers or of queues.
//   - Take returns a batch of whole items, oldest first, as soon as FlushRows rows are
//     queued, the oldest item has waited FlushAge, or (FlushQuiet) nothing arrived for a
//     while; after Close it drains what is left without waiting, then returns ErrClosed.
//   - Every accepted Item's Done is called exactly once, outside any lock: by Complete with
//     the outcome of the insert that carried it, or by Discard.
//   - A batch keeps its bytes reserved in the Budget until Complete, so the Budget bounds
//     everything its users hold: queued and being inserted.
package queue
