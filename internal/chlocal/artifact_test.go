package chlocal

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tarballServer serves body and counts how many downloads were started.
func tarballServer(t *testing.T, status int, body []byte) (url string, downloads *atomic.Int32) {
	t.Helper()
	downloads = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/fake-1.0.0.tgz", downloads
}

func TestEnsureConcurrentInstallsOnce(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tgz := makeTgz(t, map[string][]byte{"package/lib.so": payload})
	url, downloads := tarballServer(t, http.StatusOK, tgz)
	cache := t.TempDir()
	dest := filepath.Join(cache, "fake-1.0.0", "lib.so")
	lock := filepath.Join(cache, lockName)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A second process contends for the same flock as the goroutines do.
	exe, err := os.Executable()
	require.NoError(t, err)
	helper := exec.CommandContext(ctx, exe, "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"=install",
		"CHLOCAL_TEST_DEST="+dest, "CHLOCAL_TEST_URL="+url,
		"CHLOCAL_TEST_INTEGRITY="+sriOf(tgz), "CHLOCAL_TEST_LOCK="+lock)
	var helperOut bytes.Buffer
	helper.Stdout, helper.Stderr = &helperOut, &helperOut
	require.NoError(t, helper.Start())

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			errs[i] = fakeArtifact(dest, url, sriOf(tgz)).ensure(ctx, lock)
		})
	}
	wg.Wait()
	require.NoError(t, helper.Wait(), "helper: %s", helperOut.String())
	for _, err := range errs {
		require.NoError(t, err)
	}

	require.Equal(t, int32(1), downloads.Load(), "exactly one participant should download")
	got, err := os.ReadFile(dest)
	require.NoError(t, err)
	require.Equal(t, payload, got)
	requireNoTemps(t, dest)
}

func TestEnsureRefusesCorruptDownload(t *testing.T) {
	tgz := makeTgz(t, map[string][]byte{"package/lib.so": []byte("real")})
	evil := makeTgz(t, map[string][]byte{"package/lib.so": []byte("evil")})
	url, _ := tarballServer(t, http.StatusOK, evil)
	dest := filepath.Join(t.TempDir(), "lib.so")

	err := fakeArtifact(dest, url, sriOf(tgz)).ensure(context.Background(), dest+".lock")
	require.ErrorContains(t, err, "integrity check failed")
	require.NoFileExists(t, dest)
	requireNoTemps(t, dest)
}

func TestEnsureReportsHTTPFailure(t *testing.T) {
	url, _ := tarballServer(t, http.StatusNotFound, []byte("nope"))
	dest := filepath.Join(t.TempDir(), "lib.so")
	err := fakeArtifact(dest, url, sriOf([]byte("x"))).ensure(context.Background(), dest+".lock")
	require.ErrorContains(t, err, "404")
	require.NoFileExists(t, dest)
}

func TestEnsureRejectsUnpinnedRegistryIntegrity(t *testing.T) {
	tgz := makeTgz(t, map[string][]byte{"package/lib.so": []byte("x")})
	url, downloads := tarballServer(t, http.StatusOK, tgz)
	dest := filepath.Join(t.TempDir(), "lib.so")
	a := fakeArtifact(dest, url, sriOf(tgz))
	a.locate = func(context.Context) (string, string, error) {
		return url, sriOf([]byte("republished")), nil
	}
	err := a.ensure(context.Background(), dest+".lock")
	require.ErrorContains(t, err, "is pinned")
	require.Zero(t, downloads.Load(), "nothing may be fetched when the registry disagrees with the pin")
}

func TestEnsureReclaimsStaleTemps(t *testing.T) {
	tgz := makeTgz(t, map[string][]byte{"package/lib.so": []byte("x")})
	url, _ := tarballServer(t, http.StatusOK, tgz)
	dest := filepath.Join(t.TempDir(), "lib.so")
	// As left by an installer that was killed mid-download.
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(dest), ".lib.so.tmp-456"), []byte("partial"), 0o644))

	require.NoError(t, fakeArtifact(dest, url, sriOf(tgz)).ensure(context.Background(), dest+".lock"))
	requireNoTemps(t, dest)
}

func TestLockFileHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	unlock, err := lockFile(context.Background(), path, nil)
	require.NoError(t, err)
	defer unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = lockFile(ctx, path, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestNPMMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, _, err := npmDist(context.Background(), "x@1", t.TempDir())
	require.ErrorIs(t, err, errNoNPM)
	require.Contains(t, err.Error(), "install Node.js/npm")
}

func TestCacheDir(t *testing.T) {
	t.Setenv("SLUICE_CACHE_DIR", "/tmp/explicit")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	d, err := CacheDir()
	require.NoError(t, err)
	require.Equal(t, "/tmp/explicit", d)

	t.Setenv("SLUICE_CACHE_DIR", "")
	d, err = CacheDir()
	require.NoError(t, err)
	require.Equal(t, "/tmp/xdg/sluice", d)

	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	d, err = CacheDir()
	require.NoError(t, err)
	require.Equal(t, "/home/someone/.cache/sluice", d)
}
