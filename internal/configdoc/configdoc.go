// Package configdoc keeps a component's README configuration reference in sync with its
// Config struct: tests call Check, which fails on a key missing from the README and on a
// documented key that does not exist.
package configdoc

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Check compares the mapstructure keys of cfg (a Config type) with the keys named in the
// first column of the tables in the "## Configuration" section of readme. Nested keys are
// joined with sep ("::" or "."); slice elements add "[]" (routes[]::name). A key with
// sub-keys (a section) is documented through them.
func Check(t *testing.T, cfg reflect.Type, readme, sep string) {
	t.Helper()
	missing, unknown, err := Diff(cfg, readme, sep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range missing {
		t.Errorf("config key %q is missing from %s's configuration reference", k, readme)
	}
	for _, d := range unknown {
		t.Errorf("%s documents %q, which is not a key of %s", readme, d, cfg.Name())
	}
}

// Diff returns the keys of cfg missing from readme and the documented keys cfg lacks.
func Diff(cfg reflect.Type, readme, sep string) (missing, unknown []string, err error) {
	keys := Keys(cfg, "", sep)
	documented, err := documentedKeys(readme)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		section := slices.ContainsFunc(keys, func(sub string) bool {
			return strings.HasPrefix(sub, k+sep) || strings.HasPrefix(sub, k+"[]"+sep)
		})
		if !section && !slices.Contains(documented, k) {
			missing = append(missing, k)
		}
	}
	for _, d := range documented {
		if !slices.Contains(keys, d) {
			unknown = append(unknown, d)
		}
	}
	return missing, unknown, nil
}

// Keys returns every mapstructure key path of t, each prefixed with prefix. Structs of t's
// own package are walked into (also as slice elements, through configoptional.Optional and
// squash); other types (configtls, confighttp, durations) are leaves documented as a whole.
func Keys(t reflect.Type, prefix, sep string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		ft, elem := f.Type, ""
		if ft.Kind() == reflect.Slice {
			ft, elem = ft.Elem(), "[]"
		}
		if inner, ok := optionalValue(ft); ok {
			ft = inner
		}
		ours := ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath()
		if opts == "squash" {
			if ours {
				keys = append(keys, Keys(ft, prefix, sep)...)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		keys = append(keys, key)
		if ours {
			keys = append(keys, Keys(ft, key+elem+sep, sep)...)
		}
	}
	return keys
}

// optionalValue returns T of a configoptional.Optional[T] (its unexported value field).
func optionalValue(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct || t.PkgPath() != "go.opentelemetry.io/collector/config/configoptional" {
		return nil, false
	}
	f, ok := t.FieldByName("value")
	return f.Type, ok
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	braces     = regexp.MustCompile(`\{([^{}]*)\}`)
)

// documentedKeys returns the keys named in the first column of the tables of the README's
// "## Configuration" section, with {a,b} alternatives expanded.
func documentedKeys(readme string) ([]string, error) {
	raw, err := os.ReadFile(readme)
	if err != nil {
		return nil, err
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		return nil, fmt.Errorf("%s has no '## Configuration' section", readme)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var keys []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "|") {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			keys = append(keys, expand(m[1])...)
		}
	}
	return keys, nil
}

func expand(s string) []string {
	m := braces.FindStringSubmatchIndex(s)
	if m == nil {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[m[2]:m[3]], ",") {
		out = append(out, expand(s[:m[0]]+strings.TrimSpace(alt)+s[m[1]:])...)
	}
	return out
}
