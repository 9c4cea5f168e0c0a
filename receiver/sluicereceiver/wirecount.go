package sluicereceiver

import (
	"encoding/binary"
	"errors"
	"slices"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicehq/sluice/internal/otlpwire"
)

// countPieces is otlpwire.Count over a message that gRPC received in several buffers (one
// per HTTP/2 frame, 16 KiB each by default), read where it lies: a refused request's items
// are counted for receiver_refused_* without first joining a 35 KB request into one buffer,
// which was a third of the receiver's cost of a refusal. It gives what otlpwire.Count gives
// for the joined bytes, malformed input included; for the one thing it does not read
// itself, a group (never in OTLP), it joins and asks otlpwire.Count.
func countPieces(data mem.BufferSlice, path otlpwire.Path) (int, error) {
	if len(data) <= 1 {
		var b []byte
		if len(data) == 1 {
			b = data[0].ReadOnlyData()
		}
		return otlpwire.Count(b, path)
	}
	c := pieceCursor{pieces: data, limit: int64(data.Len())}
	n, err := c.count(path)
	if errors.Is(err, errGroup) {
		joined := data.Materialize()
		return otlpwire.Count(joined, path)
	}
	return n, err
}

// errGroup: the message holds a group, which pieceCursor leaves to otlpwire.Count.
var errGroup = errors.New("protobuf group")

// pieceCursor reads protobuf over a message's buffers. pos is the offset read so far in
// the whole message and limit the end of the (sub)message being read: nothing is read past it,
// as otlpwire.Count reads a submessage's bytes only.
type pieceCursor struct {
	pieces mem.BufferSlice
	next   int    // index of the piece after cur
	cur    []byte // what is left of the current piece
	pos    int64
	limit  int64
}

func (c *pieceCursor) count(path otlpwire.Path) (int, error) {
	n := 0
	for c.pos < c.limit {
		if m, l, err := c.countWhole(path); l > 0 {
			n += m
			if err != nil {
				return n, err
			}
			continue
		}
		num, typ, ok := c.tag()
		if !ok {
			return n, otlpwire.ErrMalformed
		}
		switch typ {
		case protowire.VarintType:
			if _, ok := c.varint(); !ok {
				return n, otlpwire.ErrMalformed
			}
		case protowire.Fixed32Type:
			ok = c.skip(4)
		case protowire.Fixed64Type:
			ok = c.skip(8)
		case protowire.BytesType:
			m, err := c.bytesField(num, path)
			n += m
			if err != nil {
				return n, err
			}
		case protowire.StartGroupType:
			return n, errGroup
		default:
			return n, otlpwire.ErrMalformed
		}
		if !ok {
			return n, otlpwire.ErrMalformed
		}
	}
	return n, nil
}

// countWhole counts the next field as otlpwire.Count would when it lies whole in the
// current piece, which is most fields: all but the few that a frame boundary cuts. l is the
// field's length, 0 when it is not whole here (cut, or malformed) and is left to the
// field-by-field reading below.
func (c *pieceCursor) countWhole(path otlpwire.Path) (n, l int, _ error) {
	c.fill()
	b := c.cur[:min(int64(len(c.cur)), c.limit-c.pos)]
	num, typ, tl := protowire.ConsumeTag(b)
	if tl < 0 {
		return 0, 0, nil
	}
	vl := protowire.ConsumeFieldValue(num, typ, b[tl:])
	if vl < 0 {
		return 0, 0, nil
	}
	l = tl + vl
	var err error
	if typ == protowire.BytesType && slices.Contains(path[0], num) {
		if len(path) == 1 {
			n = 1
		} else {
			v, _ := protowire.ConsumeBytes(b[tl:l])
			n, err = otlpwire.Count(v, path[1:])
		}
	}
	c.cur = c.cur[l:]
	c.pos += int64(l)
	return n, l, err
}

// bytesField reads a length-delimited field: an item when it is the path's last level, a
// message to count in when it is on the path, else skipped.
func (c *pieceCursor) bytesField(num protowire.Number, path otlpwire.Path) (int, error) {
	l, ok := c.varint()
	if !ok || l > uint64(c.limit-c.pos) {
		return 0, otlpwire.ErrMalformed
	}
	if !slices.Contains(path[0], num) {
		c.skip(int64(l))
		return 0, nil
	}
	if len(path) == 1 {
		c.skip(int64(l))
		return 1, nil
	}
	outer := c.limit
	c.limit = c.pos + int64(l)
	n, err := c.count(path[1:])
	c.limit = outer
	return n, err
}

func (c *pieceCursor) tag() (protowire.Number, protowire.Type, bool) {
	v, ok := c.varint()
	if !ok {
		return 0, 0, false
	}
	num, typ := protowire.DecodeTag(v)
	return num, typ, num >= protowire.MinValidNumber
}

// varint reads a varint as protowire.ConsumeVarint would from the (sub)message's bytes.
func (c *pieceCursor) varint() (uint64, bool) {
	c.fill()
	avail := min(int64(len(c.cur)), c.limit-c.pos)
	if v, l := protowire.ConsumeVarint(c.cur[:avail]); l > 0 {
		c.cur = c.cur[l:]
		c.pos += int64(l)
		return v, true
	}
	// Split between pieces (or malformed): gather its bytes and decode them the same way.
	var buf [binary.MaxVarintLen64]byte
	k := 0
	for k < len(buf) && c.pos < c.limit && c.fill() {
		buf[k] = c.cur[0]
		c.cur = c.cur[1:]
		c.pos++
		k++
		if buf[k-1] < 0x80 {
			break
		}
	}
	v, l := protowire.ConsumeVarint(buf[:k])
	return v, l > 0
}

// skip passes over n bytes of the (sub)message, false if it has fewer.
func (c *pieceCursor) skip(n int64) bool {
	if n > c.limit-c.pos {
		return false
	}
	c.pos += n
	for n > 0 && c.fill() {
		step := min(n, int64(len(c.cur)))
		c.cur = c.cur[step:]
		n -= step
	}
	return true
}

// fill makes cur non-empty, moving to the next non-empty piece; false at the end.
func (c *pieceCursor) fill() bool {
	for len(c.cur) == 0 {
		if c.next >= len(c.pieces) {
			return false
		}
		c.cur = c.pieces[c.next].ReadOnlyData()
		c.next++
	}
	return true
}
