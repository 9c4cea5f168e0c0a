package chlocal

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuildLauncher(t *testing.T) {
	cache := t.TempDir()
	ctx := context.Background()

	bin, err := buildLauncher(ctx, cache, launcherSource)
	require.NoError(t, err)
	require.Equal(t, launcherPath(cache, launcherSource), bin)

	// Built once: a second call must reuse the binary, not rebuild it.
	again, err := buildLauncher(ctx, cache, launcherSource)
	require.NoError(t, err)
	require.Equal(t, bin, again)

	// Editing the source must not reuse a stale binary.
	edited := append([]byte("/* edited */\n"), launcherSource...)
	require.NotEqual(t, filepath.Dir(bin), filepath.Dir(launcherPath(cache, edited)))

	// The binary works: it reports a library it cannot load, with its code.
	out, err := exec.Command(bin, filepath.Join(cache, "missing.so")).CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "err=%v", err)
	require.Equal(t, 72, ee.ExitCode())
	require.True(t, strings.Contains(string(out), "dlopen"), "%s", out)
}

func TestBuildLauncherWithoutGCC(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := buildLauncher(context.Background(), t.TempDir(), launcherSource)
	require.ErrorIs(t, err, errNoCompiler)
}
