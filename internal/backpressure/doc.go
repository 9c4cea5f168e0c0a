// Package backpressure is the one place where Sluice decides what an error means to a client:
// which HTTP status, which gRPC status, and whether (and when) the client should retry.
//
// The contract (see shared/DESIGN.md):
//
//	condition                          HTTP  gRPC                hint
//	admission full / queue full         429  RESOURCE_EXHAUSTED  yes
//	destination failing, transient      503  UNAVAILABLE         yes
//	plain error from a processor        503  UNAVAILABLE         yes
//	data rejected (permanent)           400  INVALID_ARGUMENT    no
//	body over the limit                 413  RESOURCE_EXHAUSTED  no
//
// Components build their refusals with [QueueFull], [Unavailable] and [Invalid]; the receiver
// turns whatever the pipeline hands back into a [Response] with [Classify].
package backpressure // import "github.com/sluicehq/sluice/internal/backpressure"
