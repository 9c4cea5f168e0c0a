package clickhouselanesexporter

import (
	"errors"
	"time"
)

// The write-ahead log as the lanes use it: the contract of internal/wal (see WAL_API), one
// log per lane. These mirror the engine's types until it lands; then they become aliases
// and walEngine points at the package.

type walIndex = uint64

type walRecord struct {
	Index   walIndex
	Time    time.Time
	Payload []byte
}

// walState is the lane's durable cursor: every record <= Committed is in ClickHouse; a
// non-zero PendingFirst..PendingLast is the batch being inserted, saved before the insert.
type walState struct {
	Committed    walIndex
	PendingFirst walIndex
	PendingLast  walIndex
}

type walStats struct {
	Bytes, Segments int64
	FirstUnsent     time.Time
	LastIndex       walIndex
	Committed       walIndex
	Damaged         int64
}

type walRecovery struct {
	Records        int
	TornTailBytes  int64
	DamagedRecords int
	State          walState
}

type walOptions struct {
	SegmentBytes int64
	MaxBytes     int64
	Budget       walBudget
	SyncAlways   bool
	OnSync       func(d time.Duration, bytes int)
}

// walBudget is the disk budget shared by every log of one exporter (wal::max_bytes).
type walBudget interface{ Used() int64 }

type walLog interface {
	Append(p []byte) (walIndex, error)
	Read(from walIndex, maxBytes int) ([]walRecord, error)
	Appended() <-chan struct{}
	SaveState(s walState) error
	Stats() walStats
	Close() error
}

// walEngine is the storage engine's entry points. Tests swap it for an in-memory one.
type walEngine struct {
	lock      func(root string) (unlock func() error, err error)
	newBudget func(maxBytes int64) walBudget
	open      func(dir string, o walOptions) (walLog, walRecovery, error)
}

// Refusals of Append.
var (
	errWALFull    = errors.New("wal: full")          // the lane's share or the shared budget
	errWALNoSpace = errors.New("wal: no disk space") // ENOSPC
	errWALClosed  = errors.New("wal: closed")
)

// engine is the one the exporter uses; nil functions mean the engine is not built in.
var engine walEngine
