package clickhouselanesexporter

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/configdoc"
)

// TestREADMEDocumentsEveryConfigKey keeps the README's configuration reference in sync with
// Config: every mapstructure key must have a row, and every row must name a real key.
func TestREADMEDocumentsEveryConfigKey(t *testing.T) {
	configdoc.Check(t, reflect.TypeFor[Config](), "README.md", "::")
}
