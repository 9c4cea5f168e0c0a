package wal

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// openLog opens a log in dir and closes it when the test ends.
func openLog(t testing.TB, dir string, o Options) (*Log, Recovery) {
	t.Helper()
	l, rec, err := Open(dir, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l, rec
}

// payload is the recognisable payload of record number i.
func payload(i int, size int) []byte {
	p := make([]byte, size)
	copy(p, fmt.Sprintf("record %d;", i))
	return p
}

// appendN appends n records of size bytes numbered from start and returns
// their indexes.
func appendN(t testing.TB, l *Log, start, n, size int) []Index {
	t.Helper()
	var idx []Index
	for i := start; i < start+n; i++ {
		x, err := l.Append(payload(i, size))
		require.NoError(t, err)
		idx = append(idx, x)
	}
	return idx
}

// readAll reads every record from index from on.
func readAll(t testing.TB, l *Log, from Index) []Record {
	t.Helper()
	var out []Record
	for {
		recs, err := l.Read(from, 1<<20)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Index + 1
	}
}

func indexes(recs []Record) []Index {
	var out []Index
	for _, r := range recs {
		out = append(out, r.Index)
	}
	return out
}
