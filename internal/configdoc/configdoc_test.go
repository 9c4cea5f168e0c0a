package configdoc

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

type inner struct {
	Name string `mapstructure:"name"`
}

type sample struct {
	Plain   string  `mapstructure:"plain"`
	Section inner   `mapstructure:"section"`
	List    []inner `mapstructure:"list"`
	Squash  inner   `mapstructure:",squash"`
	Skipped string  `mapstructure:"-"`
}

func TestKeysWalkSectionsListsAndSquash(t *testing.T) {
	got := Keys(reflect.TypeFor[sample](), "", "::")
	want := []string{"plain", "section", "section::name", "list", "list[]::name", "name"}
	if !slices.Equal(got, want) {
		t.Fatalf("Keys = %v, want %v", got, want)
	}
}

func TestExpandAlternatives(t *testing.T) {
	got := expand("a::{b, c}::d")
	if want := []string{"a::b::d", "a::c::d"}; !slices.Equal(got, want) {
		t.Fatalf("expand = %v, want %v", got, want)
	}
}

func TestDiffFindsMissingAndUnknownKeys(t *testing.T) {
	readme := filepath.Join(t.TempDir(), "README.md")
	doc := "# x\n\n## Configuration\n\n| key | meaning |\n|---|---|\n" +
		"| `plain` | |\n| `section::name`, `list[]::name` | |\n| `ghost` | |\n\n## Next\n| `name` | |\n"
	if err := os.WriteFile(readme, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	missing, unknown, err := Diff(reflect.TypeFor[sample](), readme, "::")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"name"}) || !slices.Equal(unknown, []string{"ghost"}) {
		t.Fatalf("missing %v, unknown %v; want [name] and [ghost] (tables after the section do not count)", missing, unknown)
	}
}
