package chlocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// The pinned ClickHouse build. The integrity is fixed here rather than
// trusted from the registry on first use, so every machine runs the very
// same bytes (ClickHouse 26.7.2 inside chDB 26.7.3).
const (
	chdbPackage   = "@chdb/lib-linux-x64-gnu"
	chdbVersion   = "26.7.3-stable.1"
	chdbIntegrity = "sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=="
	chdbMember    = "package/libchdb.so"
)

// lockName is the one lock file in the cache dir guarding every install step.
const lockName = "chlocal.lock"

// EnsureLibrary returns the path of libchdb.so in the cache, downloading and
// verifying it first if needed (which needs npm and network access once).
func EnsureLibrary(ctx context.Context) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("chlocal: only linux/amd64 is supported (have %s/%s); set CLICKHOUSE_ENDPOINT to use an external ClickHouse", runtime.GOOS, runtime.GOARCH)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	a := &artifact{
		spec:      chdbPackage + "@" + chdbVersion,
		integrity: chdbIntegrity,
		member:    chdbMember,
		dest:      filepath.Join(cache, "chdb-"+chdbVersion, "libchdb.so"),
		mode:      0o755,
		note:      os.Stderr,
	}
	a.locate = func(ctx context.Context) (string, string, error) {
		return npmDist(ctx, a.spec, cache)
	}
	if err := a.ensure(ctx, filepath.Join(cache, lockName)); err != nil {
		return "", err
	}
	return a.dest, nil
}
