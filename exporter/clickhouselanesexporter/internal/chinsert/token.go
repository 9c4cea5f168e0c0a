package chinsert

import (
	"encoding/hex"
	"strconv"

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

// LogToken is the insert_deduplication_token of the records first..last of the write-ahead
// log whose random id is log, inserted into table. It names the rows by where they are kept,
// not by their content, so an insert streamed in several blocks has its token before its
// first block; and it is the same across retries and restarts, because a batch's bounds are
// saved before its insert. The log id, new for every log directory ever created, keeps a
// recreated log's indexes 1, 2, … from matching an old log's tokens still in ClickHouse's
// deduplication window (which would drop new rows silently).
func LogToken(log string, first, last uint64, table string) string {
	return "sluice-wal-" + log + "-" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10) + "-" + table
}
