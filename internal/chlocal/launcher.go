package chlocal

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The C file lives in its own directory because a .c file next to .go files
// makes the go tool demand cgo.
//
//go:embed csrc/launcher.c
var launcherSource []byte

// errNoCompiler is returned when the launcher must be built but gcc is absent.
var errNoCompiler = errors.New("chlocal: gcc not found on PATH; install gcc (needed once to build the ClickHouse launcher)")

// launcherPath is where the launcher built from src lives in cache. The
// directory is keyed by a hash of the source, so editing launcher.c yields a
// new binary instead of silently reusing a stale one.
func launcherPath(cache string, src []byte) string {
	sum := sha256.Sum256(src)
	return filepath.Join(cache, "launcher-"+hex.EncodeToString(sum[:8]), "chlocal-launcher")
}

// ensureLauncher returns the path of the compiled launcher, building it with
// gcc under the cache lock if it is not there yet. Fetch builds it too, so
// normally this only finds it; building needs no network, so Start may.
func ensureLauncher(ctx context.Context) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	return buildLauncher(ctx, cache, launcherSource)
}

func buildLauncher(ctx context.Context, cache string, src []byte) (string, error) {
	bin := launcherPath(cache, src)
	if ok, err := regularFileExists(bin); ok || err != nil {
		return bin, err
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", errNoCompiler
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("chlocal: create cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, lockName), os.Stderr)
	if err != nil {
		return "", err
	}
	defer unlock()
	if ok, err := regularFileExists(bin); ok || err != nil {
		return bin, err
	}
	// Keep the source next to the binary: it documents what was built.
	srcPath := filepath.Join(dir, "launcher.c")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		return "", fmt.Errorf("chlocal: write launcher source: %w", err)
	}
	// Compile to a temp name and rename, so a concurrent reader never runs a
	// half-written executable (the lock only serialises writers).
	tmp := bin + ".tmp"
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, gcc, "-O2", "-Wall", "-o", tmp, srcPath, "-ldl", "-pthread")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("chlocal: compiling launcher with %s: %w: %s", gcc, err, strings.TrimSpace(out.String()))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("chlocal: install launcher: %w", err)
	}
	return bin, nil
}
