package clickhouselanesexporter

import (
	"fmt"
	"strconv"
	"strings"
)

// maxLaneDirName keeps a lane's directory name well inside the 255 bytes most file systems
// allow. A key whose name would be longer shares the overflow lane (with on_wal only).
const maxLaneDirName = 200

// laneDirName is the directory name of a lane's log: the label with every byte outside
// [a-z0-9_-] written as %XX, so it is a valid, unique file name on any file system (no
// separators, no "." or "..", no case folding surprises) and decodes back to the label.
func laneDirName(label string) string {
	var b strings.Builder
	for i := range len(label) {
		c := label[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// laneFromDirName is the inverse of laneDirName; ok is false for a name it never makes.
func laneFromDirName(name string) (label string, ok bool) {
	if name == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '%':
			if i+2 >= len(name) {
				return "", false
			}
			v, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
			if err != nil {
				return "", false
			}
			b.WriteByte(byte(v))
			i += 2
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-':
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	label = b.String()
	return label, laneDirName(label) == name
}
