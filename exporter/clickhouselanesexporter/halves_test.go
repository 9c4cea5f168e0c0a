package clickhouselanesexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func records(indexes ...walIndex) []logRecord {
	recs := make([]logRecord, len(indexes))
	for i, idx := range indexes {
		recs[i] = logRecord{index: idx, rows: 10, bytes: 100}
	}
	return recs
}

// bounds is what names a half's insert (its token): its index range.
func bounds(hs [2]logRange) [2][2]walIndex {
	return [2][2]walIndex{{hs[0].first, hs[0].last}, {hs[1].first, hs[1].last}}
}

// TestHalvesAreTheSameWhateverDamageIsKnown: an isolated batch sized from the log's memory
// (which knows of no damage) and its resend after a restart, sized by reading (which
// skips a damaged record), must cut the same halves, or a half that committed before the
// crash goes again under another token and is written twice.
func TestHalvesAreTheSameWhateverDamageIsKnown(t *testing.T) {
	sizedFromMemory := halves(1, 5, records(1, 2, 3, 4, 5))
	sizedByReading := halves(1, 5, records(1, 3, 4, 5)) // record 2 found damaged
	assert.Equal(t, bounds(sizedFromMemory), bounds(sizedByReading))
	assert.Equal(t, [2][2]walIndex{{1, 2}, {3, 5}}, bounds(sizedByReading))
	assert.Equal(t, records(1), sizedByReading[0].recs)
	assert.Equal(t, records(3, 4, 5), sizedByReading[1].recs)
}

func TestHalvesOfContiguousRecordsSplitThemEvenly(t *testing.T) {
	hs := halves(11, 16, records(11, 12, 13, 14, 15, 16))
	assert.Equal(t, records(11, 12, 13), hs[0].recs)
	assert.Equal(t, records(14, 15, 16), hs[1].recs)
	hs = halves(11, 12, records(11, 12))
	assert.Equal(t, [2][2]walIndex{{11, 11}, {12, 12}}, bounds(hs))
}

// A half whose records were all found damaged holds none: writeLogBatch skips it.
func TestHalvesMayLeaveOneEmpty(t *testing.T) {
	hs := halves(1, 4, records(3, 4))
	assert.Empty(t, hs[0].recs)
	assert.Equal(t, records(3, 4), hs[1].recs)
}
