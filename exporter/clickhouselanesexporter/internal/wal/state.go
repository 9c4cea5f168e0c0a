package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// State is the lane's durable cursor. Pending* name the batch being inserted,
// saved before the insert, so after a crash the same batch (same records,
// hence the same deduplication token) is resent first.
type State struct {
	Committed    Index // every record <= Committed is in ClickHouse
	PendingFirst Index // 0 when no batch is in flight
	PendingLast  Index
}

const (
	stateFileName = "STATE"
	stateTmpName  = "STATE.tmp"
	stateMagic    = 0x534c5753 // "SLWS"
	stateVersion  = 1
	stateSize     = 36 // magic, version, three indexes, CRC-32C
)

// errStateDamaged is returned by readState when the state file's checksum fails.
var errStateDamaged = errors.New("state file damaged")

func encodeState(s State) []byte {
	b := make([]byte, stateSize)
	binary.LittleEndian.PutUint32(b[0:], stateMagic)
	binary.LittleEndian.PutUint32(b[4:], stateVersion)
	binary.LittleEndian.PutUint64(b[8:], uint64(s.Committed))
	binary.LittleEndian.PutUint64(b[16:], uint64(s.PendingFirst))
	binary.LittleEndian.PutUint64(b[24:], uint64(s.PendingLast))
	binary.LittleEndian.PutUint32(b[32:], crc32.Checksum(b[:32], castagnoli))
	return b
}

func decodeState(b []byte) (State, error) {
	if len(b) < stateSize ||
		binary.LittleEndian.Uint32(b[0:]) != stateMagic ||
		binary.LittleEndian.Uint32(b[4:]) != stateVersion ||
		binary.LittleEndian.Uint32(b[32:]) != crc32.Checksum(b[:32], castagnoli) {
		return State{}, errStateDamaged
	}
	return State{
		Committed:    Index(binary.LittleEndian.Uint64(b[8:])),
		PendingFirst: Index(binary.LittleEndian.Uint64(b[16:])),
		PendingLast:  Index(binary.LittleEndian.Uint64(b[24:])),
	}, nil
}

// readState returns the saved state, the zero State when none was saved, or
// errStateDamaged.
func readState(dir string) (State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	return decodeState(b)
}

// writeState replaces the state file atomically: write a temporary file,
// fsync it, rename it over the old one, fsync the directory. SyncNever
// skips the fsyncs.
//
// The temporary file is a spare made beforehand (see prepareSpareState) and
// overwritten in place, so saving the state needs no new disk blocks: on a
// full disk the lane can still commit, and so delete segments and free space.
func writeState(dir string, s State, policy SyncPolicy) error {
	tmp := filepath.Join(dir, stateTmpName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return classify("create state file", err)
	}
	_, err = f.WriteAt(encodeState(s), 0)
	if err == nil {
		err = policy.sync(f)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return classify("write state file", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFileName)); err != nil {
		return classify("rename state file", err)
	}
	if err := policy.syncDir(dir); err != nil {
		return classify("sync log directory", err)
	}
	prepareSpareState(dir)
	return nil
}

// spareStateSize is one file system block: what the old state file frees
// when the new one is renamed over it.
const spareStateSize = 4096

// prepareSpareState makes the temporary state file the next writeState
// overwrites, unless it exists. Best effort: without a spare, writeState
// creates the file and needs a free block.
func prepareSpareState(dir string) {
	f, err := os.OpenFile(filepath.Join(dir, stateTmpName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return
	}
	if _, err := f.Write(make([]byte, spareStateSize)); err != nil {
		_ = f.Truncate(0)
	}
	_ = f.Close()
}

func (p SyncPolicy) sync(f *os.File) error {
	if p == SyncNever {
		return nil
	}
	return f.Sync()
}

func (p SyncPolicy) syncDir(dir string) error {
	if p == SyncNever {
		return nil
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
