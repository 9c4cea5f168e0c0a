package queue

// Item is one unit of queued work: the rows of one request that belong to one lane.
//
// Done is the completion. If Offer accepts the item, the queue owns it and Done is called
// exactly once — by Complete with the outcome of the insert that carried the item, or by
// Discard — and never under a lock. If Offer refuses it, Done is not called: the caller
// still owns the item and answers with the refusal. Done may be nil (acknowledge-on-enqueue
// needs no completion). It must not block: it runs on the lane worker.
type Item[T any] struct {
	Payload T
	// Rows and Bytes are what the item costs against the queue limits and the budget.
	// Bytes should be the memory the payload holds, not its encoded size.
	Rows, Bytes int
	Done        func(error)
	// Abandoned, if set, is closed once nobody waits for Done any more (the caller's
	// context ended). The exporter uses it to decide whether an insert of unknown outcome
	// is still worth settling.
	Abandoned <-chan struct{}
}

// AllAbandoned reports whether every item in batch has an Abandoned channel and it is
// closed: no caller is waiting for the batch any more.
func AllAbandoned[T any](batch []Item[T]) bool {
	for _, it := range batch {
		if it.Abandoned == nil {
			return false
		}
		select {
		case <-it.Abandoned:
		default:
			return false
		}
	}
	return true
}

// Stats is a snapshot of what a queue holds.
type Stats struct {
	Items, Rows, Bytes int
}

// Total is what items hold together.
func Total[T any](items []Item[T]) Stats {
	s := Stats{Items: len(items)}
	for _, it := range items {
		s.Rows += it.Rows
		s.Bytes += it.Bytes
	}
	return s
}
