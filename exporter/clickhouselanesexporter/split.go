package clickhouselanesexporter

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sluicehq/sluice/internal/tenant"
)

// part is the rows of one request that belong to one lane.
type part[T any] struct {
	key  string
	data T
	rows int
	size int // protobuf size if already known (0: measure it)
}

// unkeyed is the lane key of rows that carry no key (no such metadata or attribute).
const unkeyed = "default"

// keyFromMetadata returns the first value of the client-metadata key (the receiver must set
// include_metadata), or unkeyed.
func keyFromMetadata(ctx context.Context, name string) string {
	if k := tenant.FromContext(ctx, name); k != "" {
		return k
	}
	return unkeyed
}

// keyFromResource returns the resource attribute's value as a string, or unkeyed.
func keyFromResource(res pcommon.Resource, name string) string {
	if v, ok := res.Attributes().Get(name); ok {
		if s := v.AsString(); s != "" {
			return s
		}
	}
	return unkeyed
}

// splitByResource groups the n resources of data by key(i). When they all share one key —
// the common case — data is returned whole, without a copy; otherwise build makes one new
// request per key from the indexes of its resources, in order of first appearance.
func splitByResource[T any](data T, n int, key func(i int) string, build func(idx []int) T) []part[T] {
	if n == 0 {
		return nil
	}
	first := key(0)
	i := 1
	for i < n && key(i) == first {
		i++
	}
	if i == n {
		return []part[T]{{key: first, data: data}}
	}
	order := []string{first}
	groups := map[string][]int{first: make([]int, 0, n)}
	for j := range i {
		groups[first] = append(groups[first], j)
	}
	for ; i < n; i++ {
		k := key(i)
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	parts := make([]part[T], len(order))
	for j, k := range order {
		parts[j] = part[T]{key: k, data: build(groups[k])}
	}
	return parts
}
