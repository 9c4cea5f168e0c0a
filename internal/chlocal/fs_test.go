package chlocal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fileWithMode struct {
	data []byte
	mode string
}

func readFileMode(path string) (fileWithMode, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileWithMode{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileWithMode{}, err
	}
	return fileWithMode{data: b, mode: fi.Mode().String()}, nil
}

// requireNoTemps fails if installer temp files for dest were left behind.
func requireNoTemps(t testing.TB, dest string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dest))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}
