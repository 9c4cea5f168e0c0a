// Package tenant reads a tenant key from client metadata (a header such as X-Scope-OrgID,
// carried when the receiver has include_metadata: true). The sluice receiver's admission
// shares and the clickhouselanes exporter's lanes read it the same way, so one request
// counts as the same tenant in both.
package tenant

import (
	"context"

	"go.opentelemetry.io/collector/client"
)

// FromContext returns the first value of the metadata key in ctx, or "" if there is none.
func FromContext(ctx context.Context, key string) string {
	if key == "" {
		return ""
	}
	if v := client.FromContext(ctx).Metadata.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
