package tenant

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/client"
)

func TestFromContext(t *testing.T) {
	ctx := client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"X-Scope-OrgID": {"acme", "other"}}),
	})
	for _, c := range []struct {
		ctx  context.Context
		key  string
		want string
	}{
		{ctx, "X-Scope-OrgID", "acme"},
		{ctx, "x-scope-orgid", "acme"}, // metadata keys are case-insensitive
		{ctx, "Other", ""},
		{ctx, "", ""},
		{context.Background(), "X-Scope-OrgID", ""},
	} {
		if got := FromContext(c.ctx, c.key); got != c.want {
			t.Errorf("FromContext(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}
