package chlocal

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// fakeNPM puts an `npm` on PATH that answers `npm view` as the registry
// would, pointing at tarballURL, and records every call in the returned file.
func fakeNPM(t *testing.T, tarballURL, integrity string) (callLog string) {
	t.Helper()
	dir := t.TempDir()
	callLog = filepath.Join(dir, "calls")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s\nprintf '%%s\\n' '{\"tarball\": \"%s\", \"integrity\": \"%s\"}'\n",
		callLog, tarballURL, integrity)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "npm"), []byte(script), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return callLog
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestFetchFromEmptyCache runs what `chlocal fetch` runs, from an empty
// cache, against a local registry serving a small fake tarball: only the
// pin differs from the real thing.
func TestFetchFromEmptyCache(t *testing.T) {
	payload := []byte("\x7fELF not really libchdb")
	tgz := makeTgz(t, map[string][]byte{"package/package.json": []byte("{}"), "package/libchdb.so": payload})
	url, downloads := tarballServer(t, http.StatusOK, tgz)
	npmCalls := fakeNPM(t, url, sriOf(tgz))
	cache := t.TempDir()
	t.Setenv("SLUICE_CACHE_DIR", cache)
	fake := pin{pkg: "@chdb/fake", version: "1.0.0", integrity: sriOf(tgz), member: "package/libchdb.so"}
	ctx := testCtx(t)

	_, err := cachedLibrary(fake)
	require.ErrorIs(t, err, ErrNotFetched)
	require.ErrorContains(t, err, FetchCommand, "the error must say what to run")

	// Everything the download started must be gone when it returns: the
	// server's accept loop above is all that may remain.
	beforeFetch := goleak.IgnoreCurrent()
	var note strings.Builder
	lib, err := fetch(ctx, fake, &note)
	require.NoError(t, err)
	goleak.VerifyNone(t, beforeFetch)

	require.Equal(t, fake.libraryPath(cache), lib)
	got, err := readFileMode(lib)
	require.NoError(t, err)
	require.Equal(t, payload, got.data)
	require.Equal(t, "-rwxr-xr-x", got.mode)
	requireNoTemps(t, lib)
	launcher := launcherPath(cache, launcherSource)
	require.FileExists(t, launcher, "fetch must build the launcher too, so tests need not")
	cached, err := cachedLibrary(fake)
	require.NoError(t, err)
	require.Equal(t, lib, cached)
	require.Contains(t, note.String(), "downloading @chdb/fake@1.0.0")
	require.Equal(t, []string{"view @chdb/fake@1.0.0 dist --json"}, lines(t, npmCalls))

	// A second fetch finds everything in place and asks nobody.
	again, err := fetch(ctx, fake, nil)
	require.NoError(t, err)
	require.Equal(t, lib, again)
	require.Equal(t, int32(1), downloads.Load(), "the second fetch must not download")
	require.Len(t, lines(t, npmCalls), 1, "the second fetch must not even ask npm")
}

func TestFetchRefusesWrongIntegrity(t *testing.T) {
	tgz := makeTgz(t, map[string][]byte{"package/libchdb.so": []byte("real")})
	tampered := makeTgz(t, map[string][]byte{"package/libchdb.so": []byte("evil")})
	fake := pin{pkg: "@chdb/fake", version: "1.0.0", integrity: sriOf(tgz), member: "package/libchdb.so"}

	t.Run("tarball differs from the pin", func(t *testing.T) {
		url, downloads := tarballServer(t, http.StatusOK, tampered)
		fakeNPM(t, url, sriOf(tgz)) // the registry claims the pinned digest
		cache := t.TempDir()
		t.Setenv("SLUICE_CACHE_DIR", cache)
		_, err := fetch(testCtx(t), fake, nil)
		require.ErrorContains(t, err, "integrity check failed")
		require.Equal(t, int32(1), downloads.Load())
		_, err = cachedLibrary(fake)
		require.ErrorIs(t, err, ErrNotFetched, "nothing unverified may be installed")
		requireNoTemps(t, fake.libraryPath(cache))
	})
	t.Run("registry reports another digest", func(t *testing.T) {
		url, downloads := tarballServer(t, http.StatusOK, tampered)
		fakeNPM(t, url, sriOf(tampered)) // republished under the same version
		t.Setenv("SLUICE_CACHE_DIR", t.TempDir())
		_, err := fetch(testCtx(t), fake, nil)
		require.ErrorContains(t, err, "is pinned")
		require.Zero(t, downloads.Load(), "nothing may be fetched when the registry disagrees with the pin")
		_, err = cachedLibrary(fake)
		require.ErrorIs(t, err, ErrNotFetched)
	})
}

// TestStartNeverDownloads: with an empty cache Start fails at once, saying
// what to run, instead of downloading inside a test process.
func TestStartNeverDownloads(t *testing.T) {
	t.Setenv("SLUICE_CACHE_DIR", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no npm, no gcc: nothing could be fetched anyway
	_, err := Start(context.Background(), Options{DataDir: t.TempDir()})
	require.ErrorIs(t, err, ErrNotFetched)
	require.ErrorContains(t, err, FetchCommand)
	require.ErrorContains(t, err, "make test")
}
