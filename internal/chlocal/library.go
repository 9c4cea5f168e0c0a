package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
)

// pin names one published build of the library and the digest it must have.
// The digest is fixed in code rather than trusted from the registry on first
// use, so every machine runs the very same bytes. Only tests use another pin
// (a small fake tarball); nothing outside this package can change it.
type pin struct {
	pkg, version string
	integrity    string // SRI digest of the whole tarball
	member       string // the library's path inside the tarball
}

// chdb is ClickHouse 26.7.2 inside chDB 26.7.3.
var chdb = pin{
	pkg:       "@chdb/lib-linux-x64-gnu",
	version:   "26.7.3-stable.1",
	integrity: "sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw==",
	member:    "package/libchdb.so",
}

func (p pin) spec() string { return p.pkg + "@" + p.version }

// libraryPath is where p's library lives in cache.
func (p pin) libraryPath(cache string) string {
	return filepath.Join(cache, "chdb-"+p.version, "libchdb.so")
}

// lockName is the one lock file in the cache dir guarding every install step.
const lockName = "chlocal.lock"

// FetchCommand is what a user runs to put ClickHouse into the cache.
const FetchCommand = "go run ./cmd/chlocal fetch"

// ErrNotFetched means the library is not in the cache. Start never
// downloads (a test process must not: the download's connections and its
// lock would outlive or block other tests), so the fix is to run
// FetchCommand first, which `make test` and `make run` do.
var ErrNotFetched = errors.New("chlocal: ClickHouse is not in the cache")

// Fetch makes sure the pinned libchdb.so and the launcher are in the cache,
// downloading and verifying the library (which needs npm and network access
// once) and compiling the launcher (gcc) if needed. It returns the library's
// path. note receives progress messages; nil for silence.
func Fetch(ctx context.Context, note io.Writer) (string, error) {
	return fetch(ctx, chdb, note)
}

func fetch(ctx context.Context, p pin, note io.Writer) (string, error) {
	if err := supportedPlatform(); err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	lib, err := fetchLibrary(ctx, cache, p, note)
	if err != nil {
		return "", err
	}
	if _, err := buildLauncher(ctx, cache, launcherSource); err != nil {
		return "", err
	}
	return lib, nil
}

// fetchLibrary installs p's library into cache unless it is there already.
// The tarball is located with `npm view` and checked against p.integrity.
func fetchLibrary(ctx context.Context, cache string, p pin, note io.Writer) (string, error) {
	a := &artifact{
		spec:      p.spec(),
		integrity: p.integrity,
		member:    p.member,
		dest:      p.libraryPath(cache),
		mode:      0o755,
		note:      note,
		locate: func(ctx context.Context) (string, string, error) {
			return npmDist(ctx, p.spec(), cache)
		},
	}
	if err := a.ensure(ctx, filepath.Join(cache, lockName)); err != nil {
		return "", err
	}
	return a.dest, nil
}

// cachedLibrary returns the path of p's library if Fetch has installed it,
// and ErrNotFetched (saying what to run) if not.
func cachedLibrary(p pin) (string, error) {
	if err := supportedPlatform(); err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	lib := p.libraryPath(cache)
	ok, err := regularFileExists(lib)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w (%s): run `%s` (or `make test`) once first, or set %s to use another server",
			ErrNotFetched, lib, FetchCommand, EndpointEnv)
	}
	return lib, nil
}

func supportedPlatform() error {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("chlocal: only linux/amd64 is supported (have %s/%s); set %s to use an external ClickHouse",
			runtime.GOOS, runtime.GOARCH, EndpointEnv)
	}
	return nil
}
