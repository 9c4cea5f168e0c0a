package chlocal

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
)

// integrity is a parsed npm/Subresource-Integrity string ("sha512-<base64>").
// Only sha512 is accepted: it is what npm publishes, and accepting weaker
// algorithms would let a tampered registry answer downgrade the check.
type integrity struct {
	sum []byte
}

func parseIntegrity(s string) (integrity, error) {
	// SRI allows several space-separated hashes; use the first sha512 one.
	for _, field := range strings.Fields(s) {
		algo, b64, ok := strings.Cut(field, "-")
		if !ok || algo != "sha512" {
			continue
		}
		// Options ("?foo") may follow the digest in SRI; they carry no meaning here.
		b64, _, _ = strings.Cut(b64, "?")
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return integrity{}, fmt.Errorf("chlocal: malformed integrity %q: %w", s, err)
		}
		if len(sum) != sha512.Size {
			return integrity{}, fmt.Errorf("chlocal: malformed integrity %q: %d-byte digest, want %d", s, len(sum), sha512.Size)
		}
		return integrity{sum: sum}, nil
	}
	return integrity{}, fmt.Errorf("chlocal: integrity %q has no sha512 digest", s)
}

func (i integrity) String() string {
	return "sha512-" + base64.StdEncoding.EncodeToString(i.sum)
}

func (i integrity) equal(o integrity) bool {
	return subtle.ConstantTimeCompare(i.sum, o.sum) == 1
}

// newHash returns the hash to feed the downloaded bytes into.
func (i integrity) newHash() hash.Hash { return sha512.New() }

// verify compares a finished hash with the expected digest.
func (i integrity) verify(h hash.Hash) error {
	got := h.Sum(nil)
	if subtle.ConstantTimeCompare(got, i.sum) != 1 {
		return fmt.Errorf("chlocal: integrity check failed: got sha512-%s, want %s (corrupt or partial download)",
			base64.StdEncoding.EncodeToString(got), i)
	}
	return nil
}
