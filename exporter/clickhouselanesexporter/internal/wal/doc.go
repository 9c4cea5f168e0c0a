// Package wal is the write-ahead log each lane of the clickhouselanes
// exporter acknowledges into: an append-only log of opaque records in
// segment files, with group commit, a CRC-32C per record, recovery that
// truncates a torn tail and skips damaged records, a byte budget shared by
// all lanes, and deletion of segments the lane has committed to ClickHouse.
//
// # Why our own, and not a library
//
// Compared (December 2026, what the Go proxy serves):
//
//   - github.com/tidwall/wal v1.2.1: segmented log, Write/WriteBatch,
//     TruncateFront. No checksum (uvarint length + data); any bad byte makes
//     Open fail with ErrCorrupt (a torn tail stops the collector); the whole
//     tail segment is kept in memory (64 MiB per lane at the default size)
//     and older ones are read whole into an LRU; one lock around write and
//     fsync, so concurrent writers queue for one fsync each; a failed write
//     leaves the record in its in-memory buffer. Group commit, skipping
//     damage, a budget and ENOSPC handling would all be ours anyway.
//   - github.com/hashicorp/raft-wal v0.4.0: CRC-32C per commit batch,
//     careful torn-write handling, but made for raft: metadata in bbolt, the
//     hashicorp/raft types and metrics stack as dependencies, one writer,
//     corruption anywhere is fatal (right for raft, wrong for us: the
//     collector must start), "still considered experimental".
//   - github.com/rosedblabs/wal, github.com/aarthikrao/wal: not served by
//     the proxy. The collector's file_storage (bbolt, one item per key) is a
//     key-value store, not a log: a 64 KiB record per key costs a B+tree
//     page write and free-list churn, and it has no group commit.
//
// Measured on the shared 2-core machine, median of 3 (SyncAlways, one
// fsync per write; tidwall "plain" = one Write per append, as it comes;
// "batched" = our leader/follower batching around its WriteBatch):
//
//	appends/s, and p50 / p99 latency in µs; fsyncs per append are ours (tidwall
//	batched matched them, plain is 1)
//
//	size writers | ours                  | tidwall batched        | tidwall plain          | fsyncs
//	8K         1 |  4,807    199 /    338 |  1,996    216 /   5,517 |  3,608    185 /   2,695 | 1
//	8K         8 | 14,496    562 /  1,313 |  9,571    576 /   7,808 |  3,539  1,615 /  14,531 | 0.22
//	8K        64 | 57,396    910 /  2,648 | 11,092  1,145 /  46,006 |  1,242 29,056 / 176,858 | 0.032
//	64K        1 |  2,679    320 /  2,512 |  1,270    318 /   5,837 |  1,364    304 /   5,456 | 1
//	64K        8 |  6,385  1,039 /  6,763 |  1,844  1,976 /  55,868 |  1,968  2,402 /  37,422 | 0.22
//	64K       64 |  9,254  5,611 / 21,007 |  2,719 16,261 / 143,246 |  1,421 27,250 / 156,435 | 0.032
//
//	go test -run '^$' -bench Append -benchtime 2000x -count 3 ./exporter/clickhouselanesexporter/internal/wal/
//
// (the tidwall benchmark was a temporary file, not kept, so go.mod does not
// carry the library). 64 KiB at 64 writers is the disk's bandwidth (~600
// MB/s). fdatasync instead of fsync made no difference beyond the noise.
// Reading back is not the bottleneck: a drain worker's 1 MiB reads through a
// 64 MiB backlog of 8 KiB records run at about 1.9 GiB/s into one reused
// ReadBuffer (1.0 GiB/s allocating each payload, as Read does), and Open
// checksums a 64 MiB backlog at 0.6-2.6 GB/s (BenchmarkReadDrain,
// BenchmarkOpenRecovers; page cache warm).
//
// So we wrote our own (about 1,000 lines without comments), each
// property tested.
//
// # Changes to WAL_API.md
//
//   - Indexes only increase but may have gaps: a failed Append burns its
//     index, a skipped damaged record leaves its index out. Count records,
//     never last-first+1.
//   - Stats.LastIndex is always the index of a record that was durable (or
//     the saved cursor, if higher). If Read(from) returns nothing while
//     LastIndex >= from, the records up to LastIndex were found damaged
//     (and counted): move on to LastIndex+1 rather than waiting for them.
//   - ErrTooLarge: a record larger than the lane's share, the Budget or
//     256 MiB is refused with it (retrying never helps; a 413/400, not 429).
//   - Recovery.StateDamaged: the state file failed its checksum; State is
//     zero and every record still on disk is replayed.
//   - Budget.Max; DefaultSegmentBytes (64 MiB, for SegmentBytes 0).
//   - Appended is a buffered channel of one with non-blocking sends: meant
//     for one drain worker; after a receive, Read until nothing is left.
//   - Close releases the log's bytes from the Budget (Open charges them).
//   - AppendTagged and Tags: the log remembers, in memory, the length and a
//     caller's tag of the records appended since Open (at most 32,768 not yet
//     committed, 8 bytes each), so a drain worker sizes a batch of them
//     without reading them (see tags.go).
//   - ReadInto reads into a ReadBuffer the caller reuses: each payload is
//     read from the file where it is returned, valid until the next
//     ReadInto with that buffer; nothing is allocated per record.
//   - SaveState refuses a committed cursor that moves back or past the last
//     record. It is atomic, but not by write-temp-and-rename: STATE has two
//     slots written in turn (3-6x faster here, and it works on a full disk).
//
// # Layout on disk
//
// A log directory holds segment files named after the index of their first
// record (00000000000000000001.seg) and STATE, the lane's cursor: two 4 KiB
// slots overwritten in turn, each with a sequence number and its own
// CRC-32C, so a save is one in-place write and one fsync, a save cut off by
// a crash leaves the previous one, and saving needs no free block (a lane
// commits, and so deletes segments, on a full disk). See state.go. ID holds
// the log's random id (Log.ID), written at the first Open and kept after:
// a directory created again gets a new one (see id.go). The
// exporter's root holds LOCK (flock; Open does not lock) and one directory
// per lane.
//
// # Who calls what
//
// Append from any number of goroutines (the pipeline's callers); Read,
// SaveState and Appended from the lane's drain worker; Stats from anywhere.
// All are safe to call concurrently.
//
// A record is a 24-byte header and the payload (see record.go): CRC-32C
// (Castagnoli) of the payload and the rest of the header, payload length,
// index, append time in Unix nanoseconds.
//
// # Group commit
//
// An Append adds its record to the open batch under the log's mutex: the
// 24-byte header and a reference to the caller's payload, which is not
// copied (the caller waits in Append until the batch is written). If no
// write is in progress it becomes the leader: it takes the batch, releases
// the mutex, writes headers and payloads with one pwritev (more for over
// 512 records, the limit of 1024 buffers a call) and one fsync, and wakes
// everyone; Appends arriving meanwhile fill the next batch, whose
// first waiter to wake leads it. So an Append waits for at most the write in
// progress plus its own, and a slow disk makes batches larger, not queues
// longer. Records become readable only once durable, so an index is never
// handed to a reader and then lost in a crash.
//
// # Recovery
//
// Open scans every segment the state has not committed, verifying each
// checksum. After bytes that are not a valid record it searches forward,
// byte by byte, for the next valid record with a greater index: if there is
// one the damage is in the middle, counted and skipped; if not, in the last
// segment, it is a torn tail and is truncated. Payloads are checked through
// a 64 KiB window, so neither a large backlog nor a damaged length that
// claims megabytes makes Open hold more than that.
package wal
