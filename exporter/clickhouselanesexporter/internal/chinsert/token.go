package chinsert

import (
	"encoding/hex"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/cespare/xxhash/v2"
)

// hasher derives insert_deduplication_token from a block's encoded columns. The same rows in
// the same order always give the same token — across retries and across collector restarts —
// so an insert retried after a timeout whose first attempt did commit is dropped by the
// server instead of written twice. Distinct batches differ in content (timestamps, ids), so
// they never collide in practice; a byte-identical batch sent twice within the table's
// deduplication window is, by design, written once.
type hasher struct {
	buf proto.Buffer
	d   xxhash.Digest
}

func (h *hasher) token(input proto.Input) string {
	h.d.Reset()
	for _, c := range input {
		// LowCardinality columns build their dictionary in Prepare; the driver calls it again
		// before sending, which rebuilds the same keys.
		if p, ok := c.Data.(proto.Preparable); ok {
			_ = p.Prepare()
		}
		h.buf.Reset()
		h.buf.PutString(c.Name)
		c.Data.EncodeColumn(&h.buf)
		_, _ = h.d.Write(h.buf.Buf)
	}
	var sum [8]byte
	b := h.d.Sum(sum[:0])
	return "sluice-" + hex.EncodeToString(b)
}
