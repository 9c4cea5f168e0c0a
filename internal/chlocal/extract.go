package chlocal

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// installMember reads a .tgz stream, writes the single entry named member to
// dest, and installs it only if the whole stream matches want.
//
// The archive is streamed (hash and extraction in one pass) so the 178 MB
// tarball is never stored; the digest covers every byte read, including the
// tail after the member, so nothing unverified is ever renamed into place.
// Readers of the cache only ever see a missing file or a complete verified
// one, because the file is written to a temporary name, fsynced, and renamed.
func installMember(r io.Reader, want integrity, member, dest string, mode os.FileMode) (err error) {
	h := want.newHash()
	raw := io.TeeReader(r, h)

	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("chlocal: create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	found, err := copyTarMember(raw, member, tmp)
	if err != nil {
		return err
	}
	// Hash whatever the tar reader left unread (end-of-archive padding).
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return fmt.Errorf("chlocal: download interrupted: %w", err)
	}
	if err := want.verify(h); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("chlocal: archive has no %s", member)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chlocal: chmod: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("chlocal: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("chlocal: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("chlocal: install %s: %w", dest, err)
	}
	return syncDir(filepath.Dir(dest))
}

// copyTarMember copies the entry named member from the gzipped tar stream r
// into w. Read errors are reported as download problems, since a truncated
// or garbled body is the usual cause.
func copyTarMember(r io.Reader, member string, w io.Writer) (found bool, err error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return false, fmt.Errorf("chlocal: download is not a gzip archive (corrupt or partial?): %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("chlocal: reading archive (corrupt or partial download?): %w", err)
		}
		if hdr.Name != member || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if _, err := io.Copy(w, tr); err != nil {
			return false, fmt.Errorf("chlocal: extracting %s (corrupt or partial download?): %w", member, err)
		}
		found = true
	}
	// Drain the gzip stream so its own CRC/length trailer is checked too.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return false, fmt.Errorf("chlocal: reading archive (corrupt or partial download?): %w", err)
	}
	return found, nil
}

// syncDir makes a rename durable, so a machine crash right after install
// cannot leave a directory entry pointing at nothing.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("chlocal: fsync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("chlocal: fsync dir: %w", err)
	}
	return nil
}
