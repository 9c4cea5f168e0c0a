package wal

// A drain worker sizes its next batch (how many records, their bytes and rows) before it
// reads them to insert. For records this process appended it need not read them twice:
// AppendTagged keeps each record's payload length and the caller's tag (its row count, say)
// in memory, and Tags hands them out. Records found at Open are not in memory: Read them.
//
// The memory is bounded: maxTags records, 8 bytes each (256 KiB). A log with more records
// not yet committed than that (an outage's backlog) stops remembering new ones until the
// remembered ones are committed; the worker reads the rest, as it reads a backlog found at
// Open. Damage is found only by reading: a remembered record can turn out unreadable.

// maxTags bounds the records a log remembers.
const maxTags = 1 << 15

// Tagged is what the log remembers of a record appended since Open.
type Tagged struct {
	Index Index
	Bytes int    // of the payload
	Tag   uint32 // as given to AppendTagged
}

// AppendTagged is Append, and the log remembers the record's index, length and tag in memory
// (not on disk) for Tags. A record appended with Append is not remembered.
func (l *Log) AppendTagged(p []byte, tag uint32) (Index, error) {
	return l.append(p, tag, true)
}

// Tags appends to dst, in order, what the log remembers of the durable records from index
// from on, at most max of them, and returns it. What it returns is a run with no record left
// out: the first is the first durable record at or after from, each next one the next
// durable record. It returns dst unchanged when it does not know that first record (one
// found at Open, or not remembered: read from there). Fewer than max means that the log
// remembers no more, not that there are no more records: compare with Stats.LastIndex.
func (l *Log) Tags(dst []Tagged, from Index, max int) []Tagged {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := &l.tags
	if from < t.first {
		return dst
	}
	for i := from - t.first; i < Index(len(t.entries)) && max > 0; i, max = i+1, max-1 {
		e := t.entries[i]
		dst = append(dst, Tagged{Index: t.first + i, Bytes: int(e.bytes), Tag: e.tag})
	}
	return dst
}

// tags is the run of records the log remembers: entries[i] is the record with index
// first+i. Every durable record from first to the last entry is in it: a batch that would
// leave one out (a gap of indexes a failed write burned, an untagged record, no room) is
// not added, and none after it, until the entries are all committed (broken).
type tags struct {
	first   Index
	entries []tagEntry
	broken  bool
}

type tagEntry struct{ bytes, tag uint32 }

// add remembers the records of a written batch. Called with Log.mu held.
func (t *tags) add(b *batch) {
	if len(t.entries) == 0 {
		t.first, t.broken = b.first, false
	}
	n := len(b.payloads)
	if t.broken || b.untagged || b.first != t.first+Index(len(t.entries)) || len(t.entries)+n > maxTags {
		t.broken = true
		return
	}
	if need := len(t.entries) + n; need > cap(t.entries) { // grown to maxTags at most
		grown := make([]tagEntry, len(t.entries), min(max(2*cap(t.entries), need, 256), maxTags))
		copy(grown, t.entries)
		t.entries = grown
	}
	for i, p := range b.payloads {
		t.entries = append(t.entries, tagEntry{bytes: uint32(len(p)), tag: b.tags[i]})
	}
}

// trim forgets the records up to committed. Called with Log.mu held.
func (t *tags) trim(committed Index) {
	if committed < t.first || len(t.entries) == 0 {
		return
	}
	k := int(min(committed-t.first+1, Index(len(t.entries))))
	n := copy(t.entries, t.entries[k:]) // what is left is what the worker has yet to commit: few
	t.entries, t.first = t.entries[:n], t.first+Index(k)
	if n == 0 && cap(t.entries) > 4096 {
		t.entries = nil // a backlog's worth, given back
	}
}
