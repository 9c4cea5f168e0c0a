package clickhouselanesexporter

import (
	"fmt"

	"github.com/ClickHouse/ch-go"
)

// Compression is the block compression of the native protocol: lz4, zstd or none.
type Compression string

// UnmarshalText rejects unknown values when the configuration is loaded.
func (c *Compression) UnmarshalText(text []byte) error {
	switch v := Compression(text); v {
	case "lz4", "zstd", "none":
		*c = v
		return nil
	default:
		return fmt.Errorf("compression must be lz4, zstd or none, found %q", text)
	}
}

func (c Compression) method() ch.Compression {
	switch c {
	case "zstd":
		return ch.CompressionZSTD
	case "none":
		return ch.CompressionDisabled
	default:
		return ch.CompressionLZ4
	}
}
