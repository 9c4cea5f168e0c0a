package wal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The ID file holds the log's id: 32 random hex digits written when the log
// directory is first opened and read on every later Open. A log created
// again in a deleted directory gets a new one, so names built from the id
// and record indexes (the exporter's deduplication tokens) never repeat
// across logs, though every log numbers its records from 1.
const (
	idFileName = "ID"
	idTmpName  = "ID.tmp"
)

// ID is the log's id, fixed for the life of its directory.
func (l *Log) ID() string { return l.id }

// loadID reads dir's id, creating it if there is none (or it is unreadable:
// a new id is always safe, an old one reused is not).
func loadID(dir string, policy SyncPolicy) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, idFileName))
	if id := strings.TrimSpace(string(b)); err == nil && validID(id) {
		return id, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", classify("read log id", err)
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand panics instead)
	id := hex.EncodeToString(raw[:])
	tmp := filepath.Join(dir, idTmpName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", classify("create log id", err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = policy.sync(f)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return "", classify("create log id", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, idFileName)); err != nil {
		return "", classify("create log id", err)
	}
	if err := policy.syncDir(dir); err != nil {
		return "", classify("sync log directory", err)
	}
	return id, nil
}

func validID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 32 && err == nil
}
