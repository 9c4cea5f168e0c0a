package wal_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
)

// A lane's life: the exporter locks its root once and shares one budget;
// each lane opens its own log, appends (the acknowledgement), and its drain
// worker reads a batch, saves it as pending, inserts it, and commits it.
func Example() {
	root, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(root)
	unlock, err := wal.Lock(root)
	if err != nil {
		panic(err)
	}
	defer unlock()
	budget := wal.NewBudget(1 << 30)

	log, rec, err := wal.Open(filepath.Join(root, "lane-0"), wal.Options{MaxBytes: 256 << 20, Budget: budget})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	fmt.Println("to replay:", rec.Records)

	for _, p := range []string{"first request", "second request"} {
		if _, err := log.Append([]byte(p)); err != nil {
			panic(err) // errors.Is(err, wal.ErrFull) and wal.ErrNoSpace are refusals (429)
		}
	}

	<-log.Appended()
	batch, _ := log.Read(rec.State.Committed+1, 1<<20)
	first, last := batch[0].Index, batch[len(batch)-1].Index
	_ = log.SaveState(wal.State{Committed: first - 1, PendingFirst: first, PendingLast: last})
	// ... insert the batch into ClickHouse ...
	_ = log.SaveState(wal.State{Committed: last})

	st := log.Stats()
	fmt.Println("committed:", st.Committed, "segments left:", st.Segments, "budget used:", budget.Used())
	// Output:
	// to replay: 0
	// committed: 2 segments left: 0 budget used: 0
}
