package clickhouselanesexporter

import (
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
)

// The write-ahead log as the lanes use it (internal/wal, one log per lane). The exporter
// sees a log through walLog so tests can wrap the engine to inject failures (a full disk).

type (
	walIndex    = wal.Index
	walState    = wal.State
	walRecovery = wal.Recovery
	walRecord   = wal.Record
	walTagged   = wal.Tagged
)

type walLog interface {
	// AppendTagged appends with the record's rows as its tag: the drain sizes a batch of
	// records this process appended from Tags, without reading them.
	AppendTagged(p []byte, rows uint32) (wal.Index, error)
	Tags(dst []wal.Tagged, from wal.Index, max int) []wal.Tagged
	ReadInto(b *wal.ReadBuffer, from wal.Index, maxBytes int) ([]wal.Record, error)
	SaveState(s wal.State) error
	Stats() wal.Stats
	ID() string // random, new for every log directory: names its batches' tokens
	Close() error
}

// openLog opens a lane's log; tests replace it.
var openLog = func(dir string, o wal.Options) (walLog, wal.Recovery, error) {
	l, rec, err := wal.Open(dir, o)
	if err != nil {
		return nil, rec, err
	}
	return l, rec, nil
}
