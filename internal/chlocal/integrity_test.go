package chlocal

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIntegrity(t *testing.T) {
	sum := sha512.Sum512([]byte("x"))
	good := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])

	i, err := parseIntegrity(good)
	require.NoError(t, err)
	require.Equal(t, good, i.String())

	// SRI may list several digests; the sha512 one is used.
	i, err = parseIntegrity("sha1-abc " + good)
	require.NoError(t, err)
	require.Equal(t, sum[:], i.sum)

	for _, bad := range []string{
		"",
		"sha256-" + base64.StdEncoding.EncodeToString(sum[:32]), // weaker algorithm refused
		"sha512-***", // not base64
		"sha512-" + base64.StdEncoding.EncodeToString(sum[:10]), // wrong length
	} {
		_, err := parseIntegrity(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestIntegrityVerify(t *testing.T) {
	i, err := parseIntegrity(sriOf([]byte("payload")))
	require.NoError(t, err)

	h := i.newHash()
	h.Write([]byte("payload"))
	require.NoError(t, i.verify(h))

	h = i.newHash()
	h.Write([]byte("payloaD"))
	err = i.verify(h)
	require.ErrorContains(t, err, "integrity check failed")
}

func TestInstallMember(t *testing.T) {
	body := bytes.Repeat([]byte("libchdb"), 10000)
	tgz := makeTgz(t, map[string][]byte{"package/index.js": []byte("x"), "package/lib.so": body})
	good, err := parseIntegrity(sriOf(tgz))
	require.NoError(t, err)
	wrong, err := parseIntegrity(sriOf(append([]byte{0}, tgz...)))
	require.NoError(t, err)

	t.Run("ok", func(t *testing.T) {
		dest := t.TempDir() + "/lib.so"
		require.NoError(t, installMember(bytes.NewReader(tgz), good, "package/lib.so", dest, 0o755))
		got, err := readFileMode(dest)
		require.NoError(t, err)
		require.Equal(t, body, got.data)
		require.Equal(t, "-rwxr-xr-x", got.mode)
		requireNoTemps(t, dest)
	})
	t.Run("wrong digest", func(t *testing.T) {
		dest := t.TempDir() + "/lib.so"
		err := installMember(bytes.NewReader(tgz), wrong, "package/lib.so", dest, 0o755)
		require.ErrorContains(t, err, "integrity check failed")
		require.NoFileExists(t, dest)
		requireNoTemps(t, dest)
	})
	t.Run("truncated", func(t *testing.T) {
		dest := t.TempDir() + "/lib.so"
		err := installMember(bytes.NewReader(tgz[:len(tgz)/2]), good, "package/lib.so", dest, 0o755)
		require.Error(t, err)
		require.NoFileExists(t, dest)
		requireNoTemps(t, dest)
	})
	t.Run("trailing garbage", func(t *testing.T) {
		// The extracted member is intact, but the stream as a whole is not
		// what was pinned: it must still be refused.
		dest := t.TempDir() + "/lib.so"
		err := installMember(bytes.NewReader(append(bytes.Clone(tgz), 0, 0, 0)), good, "package/lib.so", dest, 0o755)
		require.Error(t, err)
		require.NoFileExists(t, dest)
	})
	t.Run("member missing", func(t *testing.T) {
		dest := t.TempDir() + "/lib.so"
		err := installMember(bytes.NewReader(tgz), good, "package/other.so", dest, 0o755)
		require.ErrorContains(t, err, "no package/other.so")
		require.NoFileExists(t, dest)
	})
}

func TestSQLString(t *testing.T) {
	require.Equal(t, `'/a/it\'s\\x'`, sqlString(`/a/it's\x`))
	require.False(t, strings.Contains(sqlString("x'); DROP"), "x')"))
}
