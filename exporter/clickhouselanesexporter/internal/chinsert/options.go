package chinsert

import (
	"crypto/tls"
	"time"

	"github.com/ClickHouse/ch-go"
)

// Options configure connections and inserts.
type Options struct {
	// Addrs are host:port pairs tried in order on every dial; the first that answers wins.
	Addrs       []string
	Database    string
	User        string
	Password    string
	Compression ch.Compression
	ClientName  string
	// DialTimeout bounds connecting to one host, handshake included.
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for one packet from the server.
	ReadTimeout time.Duration
	TLS         *tls.Config

	// AsyncInsert asks the server to buffer inserts (async_insert=1). WaitForAsyncInsert makes
	// the server answer only once the buffer is flushed, so an acknowledged insert is durable.
	AsyncInsert        bool
	WaitForAsyncInsert bool
	// Deduplicate sends an insert_deduplication_token derived from the block's content.
	Deduplicate bool
}
