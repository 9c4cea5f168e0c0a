package chlocal

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Open connects to endpoint over the native protocol and pings it. endpoint
// is a clickhouse-go DSN such as "tcp://127.0.0.1:9000" or
// "clickhouse://user:pass@host:9000/db?dial_timeout=2s". No settings are
// changed from the server's defaults (note this build has async_insert=1):
// set what a test relies on per query with clickhouse.Context.
func Open(ctx context.Context, endpoint string) (driver.Conn, error) {
	opts, err := clickhouse.ParseDSN(endpoint)
	if err != nil {
		return nil, fmt.Errorf("chlocal: bad endpoint %q: %w", redact(endpoint), err)
	}
	if opts.Protocol != clickhouse.Native {
		return nil, fmt.Errorf("chlocal: endpoint %q is not a native-protocol (tcp://) endpoint", redact(endpoint))
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("chlocal: open %s: %w", redact(endpoint), err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("chlocal: ping %s: %w", redact(endpoint), err)
	}
	return conn, nil
}

// redact hides a password in endpoint, since errors end up in CI logs.
func redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "(unparsable endpoint)"
	}
	return u.Redacted()
}
