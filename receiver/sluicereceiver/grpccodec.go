package sluicereceiver

import (
	"google.golang.org/grpc"
	grpcencoding "google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/sluicehq/sluice/internal/otlpwire"
)

// rawCodec lets the receiver's gRPC server hand the handler a request's bytes instead of a
// decoded message, so admission can weigh (and refuse) a request before anything decodes
// it. gRPC has already decompressed the bytes and checked max_recv_msg_size_mib by then.
//
// It is installed only on our server (grpc.ForceServerCodecV2), never registered globally:
// other gRPC servers and clients in the process keep the standard proto codec. Anything
// that is not one of our raw types goes to that codec.
type rawCodec struct{ fallback grpcencoding.CodecV2 }

func newRawCodec() rawCodec { return rawCodec{fallback: grpcencoding.GetCodecV2("proto")} }

func serverCodec() grpc.ServerOption { return grpc.ForceServerCodecV2(newRawCodec()) }

// receivedMessage holds a received message's bytes, referenced and not copied. Whoever
// received it calls free once done with the bytes.
type receivedMessage struct {
	data mem.BufferSlice
}

// serializedMessage is a message already serialized: the server's responses (and, in
// tests, a client's raw requests).
type serializedMessage []byte

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*receivedMessage)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	// gRPC frees data when Unmarshal returns; keep our own reference instead of a copy.
	data.Ref()
	m.data = data
	return nil
}

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(serializedMessage)
	if !ok {
		return c.fallback.Marshal(v)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return mem.BufferSlice{mem.SliceBuffer(m)}, nil
}

func (rawCodec) Name() string { return "proto" }

// size is the message's uncompressed length.
func (m *receivedMessage) size() int64 { return int64(m.data.Len()) }

// joinPool holds the buffers a message split over several HTTP/2 frames is joined into.
// Its tiers are every power of two from 4 KiB to 16 MiB, so a buffer is at most twice the
// message; gRPC's default pool jumps from 32 KiB to 1 MiB, which would make each admitted
// 40 KiB request hold a megabyte.
var joinPool = mustBinaryPool(12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)

func mustBinaryPool(exponents ...uint8) mem.BufferPool {
	p, err := mem.NewBinaryTieredBufferPool(exponents...)
	if err != nil {
		panic(err)
	}
	return p
}

// bytes returns the message as one slice, valid until free: the received buffer itself
// when it came in one piece, else a pooled copy.
func (m *receivedMessage) bytes() []byte {
	if m.data.Len() == 0 {
		return nil
	}
	if len(m.data) != 1 {
		joined := m.data.MaterializeToBuffer(joinPool)
		m.data.Free()
		m.data = mem.BufferSlice{joined}
	}
	return m.data[0].ReadOnlyData()
}

// countItems counts the message's items: what it can read of a malformed one.
func (m *receivedMessage) countItems(path otlpwire.Path) int {
	n, _ := m.count(path)
	return n
}

// count is otlpwire.Count over the message, joined into one pooled buffer if gRPC received
// it in several (as bytes does).
func (m *receivedMessage) count(path otlpwire.Path) (int, error) {
	return otlpwire.Count(m.bytes(), path)
}

// free returns the buffers to gRPC's pool; the bytes must not be used after. Freeing
// twice is harmless.
func (m *receivedMessage) free() {
	m.data.Free()
	m.data = nil
}
