package chlocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"testing"
)

// makeTgz builds an in-memory .tgz in npm's layout (entries under package/).
func makeTgz(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sriOf(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// fakeArtifact is an artifact that downloads url (no npm involved) and
// expects integrity both pinned and reported.
func fakeArtifact(dest, url, integrity string) *artifact {
	return &artifact{
		spec:      "fake@1.0.0",
		integrity: integrity,
		member:    "package/lib.so",
		dest:      dest,
		mode:      0o755,
		locate: func(context.Context) (string, string, error) {
			return url, integrity, nil
		},
	}
}
