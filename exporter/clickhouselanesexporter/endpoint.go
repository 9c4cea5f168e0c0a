package clickhouselanesexporter

import (
	"fmt"
	"net"
	"strings"
)

// parseEndpoint turns scheme://host:port[,host:port...] into the host:port list to dial.
// Credentials, database and settings have their own keys, so a URL carrying them is refused
// rather than half-honoured.
func parseEndpoint(endpoint string, hasPassword bool) ([]string, error) {
	if endpoint == "" {
		return nil, fmt.Errorf("endpoint must be set, e.g. tcp://127.0.0.1:9000")
	}
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return nil, fmt.Errorf("endpoint %q: want scheme://host:port, e.g. tcp://127.0.0.1:9000", endpoint)
	}
	switch strings.ToLower(scheme) {
	case "tcp", "clickhouse":
	case "http":
		if hasPassword {
			return nil, fmt.Errorf("endpoint %q: refusing to send the password over plain http; "+
				"this exporter speaks the native protocol: use tcp:// (with tls settings to encrypt)", endpoint)
		}
		return nil, fmt.Errorf("endpoint %q: http is not supported, this exporter speaks the native protocol: use tcp://", endpoint)
	default:
		return nil, fmt.Errorf("endpoint %q: scheme must be tcp or clickhouse (native protocol), found %q", endpoint, scheme)
	}
	if strings.ContainsAny(rest, "@/?#") {
		return nil, fmt.Errorf("endpoint %q: put credentials, database and settings in their own keys, not in the URL", endpoint)
	}
	var addrs []string
	for _, hp := range strings.Split(rest, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(hp))
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("endpoint %q: host %q must be host:port", endpoint, hp)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}
