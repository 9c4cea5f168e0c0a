package chlocal

import (
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir returns where downloads and the compiled launcher are kept:
// $SLUICE_CACHE_DIR if set, else $XDG_CACHE_HOME/sluice, else
// $HOME/.cache/sluice. It is per user and outside any checkout, so the
// ~566 MB library is fetched once per machine, not once per clone.
func CacheDir() (string, error) {
	if d := os.Getenv("SLUICE_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	// os.UserCacheDir implements exactly the XDG_CACHE_HOME / ~/.cache rule.
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("chlocal: no cache directory (set SLUICE_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "sluice"), nil
}
