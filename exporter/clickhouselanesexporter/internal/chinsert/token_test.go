package chinsert

import (
	"testing"

	"github.com/ClickHouse/ch-go/proto"
)

func input(vals ...string) proto.Input {
	var c proto.ColStr
	for _, v := range vals {
		c.Append(v)
	}
	return proto.Input{{Name: "s", Data: &c}}
}

// TestTokenFollowsContent: the same rows give the same token (a retry deduplicates), any
// change of content or row boundaries gives another (new data is never dropped).
func TestTokenFollowsContent(t *testing.T) {
	var h hasher
	a := h.token(input("x", "y"))
	if b := h.token(input("x", "y")); a != b {
		t.Errorf("same content, tokens %s and %s", a, b)
	}
	for _, other := range []proto.Input{input("x", "z"), input("xy"), input("x", "y", "")} {
		if b := h.token(other); a == b {
			t.Errorf("different content, same token %s", a)
		}
	}
}

func TestSettingsAreExplicit(t *testing.T) {
	in := New(Options{Deduplicate: true})
	got := map[string]string{}
	for _, s := range in.settings("sluice-x") {
		got[s.Key] = s.Value
	}
	if got["async_insert"] != "0" || got["insert_deduplication_token"] == "" || got["insert_distributed_sync"] != "1" {
		t.Errorf("sync settings = %v", got)
	}
	in = New(Options{AsyncInsert: true, WaitForAsyncInsert: true, Deduplicate: true})
	got = map[string]string{}
	for _, s := range in.settings("sluice-x") {
		got[s.Key] = s.Value
	}
	if got["async_insert"] != "1" || got["wait_for_async_insert"] != "1" || got["async_insert_deduplicate"] != "1" {
		t.Errorf("async settings = %v", got)
	}
}
