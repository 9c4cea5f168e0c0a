package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// artifact is one file taken out of a published npm tarball and kept in the
// cache. It is a struct (rather than constants inside a function) so tests
// can point it at a small fake tarball served locally.
type artifact struct {
	spec      string      // "name@version", for npm and for messages
	integrity string      // pinned SRI digest of the tarball
	member    string      // path of the wanted entry inside the tarball
	dest      string      // where the entry is installed
	mode      fs.FileMode // mode of the installed file
	// locate returns the tarball URL and the integrity the registry reports.
	locate func(ctx context.Context) (url, integrity string, err error)
	note   io.Writer // progress messages; nil for silence
}

// ensure installs the artifact unless it is already there. It is safe to
// call from many goroutines and processes at once: the installer holds an
// exclusive flock on lockPath, and everyone re-checks after getting it.
func (a *artifact) ensure(ctx context.Context, lockPath string) error {
	if ok, err := regularFileExists(a.dest); ok || err != nil {
		return err
	}
	want, err := parseIntegrity(a.integrity)
	if err != nil {
		return err
	}
	dir := filepath.Dir(a.dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chlocal: create cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, lockPath, a.note)
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have finished while we waited for the lock.
	if ok, err := regularFileExists(a.dest); ok || err != nil {
		return err
	}
	// Only the lock holder writes temp files, so any left over belong to an
	// installer that died; they are 500+ MB each, so reclaim them.
	removeStaleTemps(a.dest)

	url, reported, err := a.locate(ctx)
	if err != nil {
		return err
	}
	// The pinned digest is the authority; the registry's answer must agree,
	// otherwise the package was republished or the mirror is wrong.
	got, err := parseIntegrity(reported)
	if err != nil {
		return err
	}
	if !got.equal(want) {
		return fmt.Errorf("chlocal: registry reports integrity %s for %s, but %s is pinned", got, a.spec, want)
	}
	return a.download(ctx, url, want)
}

func (a *artifact) download(ctx context.Context, url string, want integrity) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("chlocal: download %s: %w", url, err)
	}
	// A transport of its own, closed when done: the shared default one would
	// keep the (HTTP/2) connection and its read loop alive after the
	// download, for nothing, in whatever process fetched.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return fmt.Errorf("chlocal: download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("chlocal: download %s: HTTP %s", url, resp.Status)
	}
	if a.note != nil {
		size := "unknown size"
		if resp.ContentLength > 0 {
			size = fmt.Sprintf("%d MB", resp.ContentLength>>20)
		}
		fmt.Fprintf(a.note, "chlocal: downloading %s (%s) once into %s\n", a.spec, size, filepath.Dir(a.dest))
	}
	if err := installMember(resp.Body, want, a.member, a.dest, a.mode); err != nil {
		return fmt.Errorf("%w (from %s)", err, url)
	}
	return nil
}

func regularFileExists(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chlocal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("chlocal: %s exists but is not a regular file", path)
	}
	return true, nil
}

// removeStaleTemps deletes temp files named like installMember's for dest.
func removeStaleTemps(dest string) {
	prefix := "." + filepath.Base(dest) + ".tmp-"
	entries, _ := os.ReadDir(filepath.Dir(dest))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(filepath.Dir(dest), e.Name()))
		}
	}
}
