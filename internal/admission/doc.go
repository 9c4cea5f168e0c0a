// Package admission is the gate both receiver transports pass before a request is processed:
// a weighted semaphore over requests and bytes in flight, with an optional bounded FIFO wait
// and optional per-tenant shares.
//
// "Bytes" are whatever the caller says a request weighs; the receiver uses the decoded
// (uncompressed, serialized OTLP) size, so max bytes bounds the request payloads held at once.
// A request whose size is learnt while reading it takes its bytes through a Reservation as
// they arrive and its slot (Admit) once it is whole.
package admission // import "github.com/sluicehq/sluice/internal/admission"
