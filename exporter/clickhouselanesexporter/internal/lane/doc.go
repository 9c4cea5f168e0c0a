// Package lane is the in-memory half of the clickhouselanes exporter's lanes: the bounded
// queue and batcher of a lane (acknowledge on_insert and on_enqueue), the byte budget all
// lanes share, and the Ack that wakes an on_insert request once every part is committed.
// (With acknowledge on_wal a lane's queue is its write-ahead log, internal/wal; the queue
// stays empty and only the Budget is used, for records being written.)
//
// # Guarantees
//
//   - Offer never blocks. It accepts an Item or refuses it at once (ErrQueueFull,
//     ErrBudget, ErrTooLarge, ErrClosed), and a refusal leaves the queue and the Budget
//     unchanged (about 20 ns, no allocation).
//   - A Queue never holds more than its MaxRows rows or MaxBytes bytes, and the Budget is
//     never exceeded, whatever the number of concurrent offers or of lanes.
//   - Take returns a batch of whole items, oldest first, as soon as FlushRows rows are
//     queued, the oldest item has waited FlushAge, or (FlushQuiet) nothing arrived for a
//     while; after Close it drains what is left without waiting, then returns ErrClosed.
//   - Every accepted Item's Done is called exactly once, outside any lock: by Complete with
//     the outcome of the insert that carried it, or by Discard.
//   - A batch keeps its bytes reserved in the Budget until Complete, so the Budget bounds
//     everything the exporter holds: queued and being inserted.
//
// # Where it is used
//
// The exporter's data path reads in one direction: exporter.go (push: split a request by
// lane key, offer each part, or append it to the lane's log with on_wal), lane.go (a lane:
// its queue or log, breaker and worker; insert with retry, breaker and the settling of an
// unknown outcome; isolating rejected requests by halving), drain.go (the on_wal worker:
// read, save pending, insert, save committed), destination.go and path.go (the ClickHouse
// side).
package lane
