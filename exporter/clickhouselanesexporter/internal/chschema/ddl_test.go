package chschema

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func goldenOptions(text bool) Options {
	return Options{
		Database: "otel", Tables: DefaultTables, Engine: "MergeTree",
		TTL: 72 * time.Hour, TextIndexes: text, DedupWindow: 1000,
	}
}

// distributedOptions is a sharded cluster written through Distributed tables.
func distributedOptions() Options {
	o := goldenOptions(true)
	o.Cluster, o.Distributed = "otel_cluster", true
	return o
}

func render(o Options) string {
	var b strings.Builder
	for _, s := range Statements(o) {
		b.WriteString("-- " + s.Name + "\n" + s.SQL + ";\n\n")
	}
	return b.String()
}

// TestDDLMatchesGolden pins the DDL of each server-version branch; run with -update to rewrite.
func TestDDLMatchesGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts Options
	}{
		{"ddl_text_indexes.sql", goldenOptions(true)},
		{"ddl_bloom_filters.sql", goldenOptions(false)},
		{"ddl_cluster_distributed.sql", distributedOptions()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := render(tc.opts)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("DDL differs from %s; run go test -update and review the diff", path)
			}
		})
	}
}

func TestIdentEscapesQuotes(t *testing.T) {
	for in, want := range map[string]string{
		"otel":        "`otel`",
		"a`b":         "`a\\`b`",
		`a\b`:         "`a\\\\b`",
		"x`; DROP --": "`x\\`; DROP --`",
	} {
		if got := Ident(in); got != want {
			t.Errorf("Ident(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTextIndexesFromServerVersion(t *testing.T) {
	for _, tc := range []struct {
		major, minor int
		want         bool
	}{{25, 12, false}, {26, 1, false}, {26, 2, true}, {26, 7, true}, {27, 0, true}} {
		if got := TextIndexesSupported(tc.major, tc.minor); got != tc.want {
			t.Errorf("%d.%d: got %v", tc.major, tc.minor, got)
		}
	}
}

func TestReplicatedEngineSkipsDedupWindow(t *testing.T) {
	o := goldenOptions(true)
	o.Engine, o.EngineParams, o.Cluster = "ReplicatedMergeTree", "'/clickhouse/{shard}/{table}', '{replica}'", "main"
	for _, s := range Statements(o)[1:] {
		if strings.Contains(s.SQL, "non_replicated_deduplication_window") {
			t.Errorf("%s: replicated table got non_replicated_deduplication_window", s.Name)
		}
		if !strings.Contains(s.SQL, "ON CLUSTER `main`") {
			t.Errorf("%s: missing ON CLUSTER", s.Name)
		}
	}
}

func TestTTLUnits(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", 48 * time.Hour: "toIntervalDay(2)", 90 * time.Minute: "toIntervalMinute(90)",
		3 * time.Hour: "toIntervalHour(3)", 45 * time.Second: "toIntervalSecond(45)",
	} {
		got := Options{TTL: d}.ttl("t")
		if !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("%s: got %q want %q", d, got, want)
		}
	}
}
