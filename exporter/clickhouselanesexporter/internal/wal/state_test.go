package wal

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzStateSlots: whatever two slots hold, reading them never panics, and
// a state it accepts is exactly what encoding it gives back.
func FuzzStateSlots(f *testing.F) {
	a := encodeState(State{Committed: 3, PendingFirst: 4, PendingLast: 9}, 7)
	b := encodeState(State{Committed: 9}, 8)
	f.Add(a, b)
	f.Add(a, make([]byte, stateSize))
	f.Add(b[:20], a)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		s, seq, err := newestSlot(a, b)
		if err != nil {
			require.Zero(t, seq)
			return
		}
		if seq == 0 {
			require.Zero(t, s, "no slot written")
			return
		}
		enc := encodeState(s, seq)
		require.True(t, bytes.HasPrefix(a, enc) || bytes.HasPrefix(b, enc))
	})
}
