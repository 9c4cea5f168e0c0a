package clickhouselanesexporter // import "github.com/sluicehq/sluice/exporter/clickhouselanesexporter"

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
)

// Config is the configuration of the clickhouselanes exporter.
type Config struct {
	// Endpoint is the ClickHouse native endpoint, e.g. tcp://127.0.0.1:9000.
	Endpoint string              `mapstructure:"endpoint"`
	Database string              `mapstructure:"database"`
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// CreateSchema creates the database and tables at start.
	CreateSchema bool `mapstructure:"create_schema"`
	// InsertTimeout bounds one insert attempt, so a sick destination cannot hold a lane long.
	InsertTimeout time.Duration `mapstructure:"insert_timeout"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; errors name the YAML key and the bad value.
func (c *Config) Validate() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be set, e.g. tcp://127.0.0.1:9000"))
	} else if u, err := url.Parse(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint %q: %w", c.Endpoint, err))
	} else {
		switch strings.ToLower(u.Scheme) {
		case "tcp", "clickhouse":
		case "http":
			if c.Password != "" {
				errs = append(errs, fmt.Errorf("endpoint %q: refusing to send a password over plain http", c.Endpoint))
			}
		case "https":
		default:
			errs = append(errs, fmt.Errorf("endpoint %q: scheme must be tcp, clickhouse, http or https", c.Endpoint))
		}
	}
	if c.Database == "" {
		errs = append(errs, errors.New("database must not be empty"))
	}
	if c.InsertTimeout <= 0 {
		errs = append(errs, fmt.Errorf("insert_timeout must be positive, found %s", c.InsertTimeout))
	}
	return errors.Join(errs...)
}
