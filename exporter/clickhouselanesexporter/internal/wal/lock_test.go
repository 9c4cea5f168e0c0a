package wal

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockHeldTwiceInOneProcessFailsNamingThePath(t *testing.T) {
	root := filepath.Join(t.TempDir(), "wal")
	unlock, err := Lock(root)
	require.NoError(t, err)

	_, err = Lock(root)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "log directory "+root+" is in use by another collector")
	assert.Contains(t, err.Error(), filepath.Join(root, "LOCK"))
	assert.Contains(t, err.Error(), "`wal::directory`")

	require.NoError(t, unlock())
	unlock, err = Lock(root)
	require.NoError(t, err, "unlock lets the next owner in")
	require.NoError(t, unlock())
}

// helperEnv makes the test binary, run again by TestLockHeldByAnotherProcess,
// hold the lock on the directory it names until its stdin closes.
const helperEnv = "WAL_TEST_HOLD_LOCK"

func TestLockHeldByAnotherProcessFails(t *testing.T) {
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+root)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	_, err = Lock(root)
	require.ErrorContains(t, err, "is in use by another collector")

	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
	unlock, err := Lock(root)
	require.NoError(t, err, "the lock goes with the process")
	require.NoError(t, unlock())
}

func TestLockHelperProcess(t *testing.T) {
	root := os.Getenv(helperEnv)
	if root == "" {
		t.Skip("run by TestLockHeldByAnotherProcessFails")
	}
	unlock, err := Lock(root)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	_ = unlock
}
