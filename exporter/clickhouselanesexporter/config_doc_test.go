package clickhouselanesexporter

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// configKeys walks a config type and returns every mapstructure key path, joined with sep.
// Structs of this package are walked into, also as slice elements (routes[]::name); other
// types (configtls, configopaque, durations) are leaves documented as a whole.
func configKeys(t reflect.Type, prefix, sep string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		ft, elem := f.Type, ""
		if ft.Kind() == reflect.Slice {
			ft, elem = ft.Elem(), "[]"
		}
		ours := ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath()
		if opts == "squash" {
			if ours {
				keys = append(keys, configKeys(ft, prefix, sep)...)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		keys = append(keys, key)
		if ours {
			keys = append(keys, configKeys(ft, key+elem+sep, sep)...)
		}
	}
	return keys
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	braces     = regexp.MustCompile(`\{([^{}]*)\}`)
)

// documentedKeys returns the keys named in the first column of the tables of the README's
// "## Configuration" section, with {a,b} alternatives expanded.
func documentedKeys(t *testing.T, readme string) []string {
	t.Helper()
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatalf("%s has no '## Configuration' section", readme)
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
	return keys
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

// TestREADMEDocumentsEveryConfigKey keeps the README's configuration reference in sync with
// Config: every mapstructure key must have a row, and every row must name a real key.
func TestREADMEDocumentsEveryConfigKey(t *testing.T) {
	keys := configKeys(reflect.TypeFor[Config](), "", "::")
	documented := documentedKeys(t, "README.md")
	for _, k := range keys {
		// A key with sub-keys (a section) is documented through them.
		section := slices.ContainsFunc(keys, func(sub string) bool { return strings.HasPrefix(sub, k+"::") || strings.HasPrefix(sub, k+"[]::") })
		if !section && !slices.Contains(documented, k) {
			t.Errorf("config key %q is missing from README.md's configuration reference", k)
		}
	}
	for _, d := range documented {
		if !slices.Contains(keys, d) {
			t.Errorf("README.md documents %q, which is not a key of Config", d)
		}
	}
}
