package queue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
)

// A lane's worker takes batches and completes them; a request waits for its rows.
func Example() {
	budget := queue.NewBudget(64 << 20)
	q := queue.NewQueue[string](queue.Config{
		MaxRows: 100_000, MaxBytes: 16 << 20, FlushRows: 2, FlushAge: time.Second,
	}, budget)

	worker := make(chan struct{})
	go func() {
		defer close(worker)
		var batch []queue.Item[string]
		for {
			var err error
			if batch, err = q.Take(context.Background(), batch[:0]); err != nil {
				return // queue.ErrClosed: drained
			}
			fmt.Println("insert", len(batch), "items")
			q.Complete(batch, nil)
		}
	}()

	ack := queue.NewAck(2)
	for _, rows := range []string{"span a", "span b"} {
		if err := q.Offer(queue.Item[string]{Payload: rows, Rows: 1, Bytes: 64, Done: ack.Done}); err != nil {
			ack.Done(err) // refused: the caller answers for this part
		}
	}
	fmt.Println("acknowledged:", ack.Wait(context.Background()))
	q.Close()
	<-worker
	// Output:
	// insert 2 items
	// acknowledged: <nil>
}
