// Package reqsize carries the encoded size of a request from the receiver that decoded it
// to the exporter that queues it, so the exporter need not walk the whole request again to
// weigh it against its memory limits.
//
// The size travels in the context of the pipeline call. It is a hint: a processor in
// between may change the data (the exporter only trusts it when the item count still
// matches) or start a new context (then there is no hint and the exporter measures).
package reqsize

import "context"

// Size is one request's item count (spans, log records or data points) and its OTLP
// protobuf size in bytes.
type Size struct {
	Items int
	Bytes int
}

type key struct{}

// NewContext returns ctx carrying s.
func NewContext(ctx context.Context, s Size) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// FromContext returns the size carried by ctx, if any.
func FromContext(ctx context.Context) (Size, bool) {
	s, ok := ctx.Value(key{}).(Size)
	return s, ok
}

// For returns the protobuf size carried by ctx if it describes a request of items items.
func For(ctx context.Context, items int) (int, bool) {
	s, ok := FromContext(ctx)
	if !ok || s.Items != items || s.Bytes <= 0 {
		return 0, false
	}
	return s.Bytes, true
}
