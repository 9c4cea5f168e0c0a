package wal

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashEnv makes the test binary, run again by TestKillDuringAppendsLosesNoAcknowledgedRecord,
// append to the log in the directory it names until it is killed.
const crashEnv = "WAL_TEST_APPEND_UNTIL_KILLED"

// The child appends from four goroutines and commits from a fifth, printing
// each acknowledged record and each saved cursor; the parent kills it with
// SIGKILL mid-stream and reopens the log: every acknowledged record after the
// last printed cursor is there, with its payload.
func TestKillDuringAppendsLosesNoAcknowledgedRecord(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendUntilKilledProcess$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	acked := map[Index]string{}
	var committed Index
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 2 {
			continue // test framework output
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		require.NoError(t, err)
		if f[0] == "commit" {
			committed = Index(n)
		} else {
			acked[Index(n)] = f[0]
		}
		if len(acked) == 1000 {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		}
	}
	_ = cmd.Wait()
	require.GreaterOrEqual(t, len(acked), 1000)
	require.Positive(t, committed, "the child committed before it was killed")

	l, rec := openLog(t, dir, Options{})
	assert.Zero(t, rec.DamagedRecords)
	assert.GreaterOrEqual(t, rec.State.Committed, committed)
	got := map[Index]string{}
	for _, r := range readAll(t, l, rec.State.Committed+1) {
		got[r.Index] = string(r.Payload)
	}
	checked := 0
	for idx, p := range acked {
		if idx > rec.State.Committed {
			require.Equal(t, p, got[idx], "acknowledged record %d", idx)
			checked++
		}
	}
	assert.GreaterOrEqual(t, checked, 150)
	t.Logf("%d acknowledged, %d after the cursor %d checked, torn tail %d bytes", len(acked), checked, rec.State.Committed, rec.TornTailBytes)
}

func TestAppendUntilKilledProcess(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("run by TestKillDuringAppendsLosesNoAcknowledgedRecord")
	}
	l, _, err := Open(dir, Options{SegmentBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format, args...)
	}
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("x", i%3000))
				idx, err := l.Append([]byte(p))
				if err != nil {
					panic(err)
				}
				say("%s %d\n", p, idx)
			}
		}()
	}
	// The drain commits all but the last 200 records, so most of what
	// is acknowledged when the kill comes is still to be read back.
	for committed := Index(0); ; {
		<-l.Appended()
		last := l.Stats().LastIndex
		if last < committed+200+50 {
			continue
		}
		committed = last - 200
		if err := l.SaveState(State{Committed: committed}); err != nil {
			panic(err)
		}
		say("commit %d\n", committed)
	}
}
