// Package wal is the write-ahead log each lane of the clickhouselanes
// exporter acknowledges into: an append-only log of opaque records in
// segment files, with group commit, a CRC-32C per record, recovery that
// truncates a torn tail and skips damaged records, a byte budget shared by
// all lanes, and deletion of segments the lane has committed to ClickHouse.
//
// # Changes to WAL_API.md
//
//   - Indexes only increase but may have gaps: a failed Append burns its
//     index, a skipped damaged record leaves its index out. Count records,
//     never last-first+1.
//   - ErrTooLarge: a record larger than the lane's share, the Budget or
//     256 MiB is refused with it (retrying never helps; a 413/400, not 429).
//   - Recovery.StateDamaged: the state file failed its checksum; State is
//     zero and every record still on disk is replayed.
//   - Budget.Max; DefaultSegmentBytes (64 MiB, for SegmentBytes 0).
//   - Appended is a buffered channel of one with non-blocking sends: meant
//     for one drain worker; after a receive, Read until nothing is left.
//   - Close releases the log's bytes from the Budget (Open charges them).
//   - SaveState refuses a committed cursor that moves back or past the last
//     record.
//
// # Layout on disk
//
// A log directory holds segment files named after the index of their first
// record (00000000000000000001.seg) and STATE, the lane's cursor (36 bytes
// with its own CRC-32C, replaced by write-temp, fsync, rename, fsync-dir).
// The exporter's root holds LOCK (flock) and one directory per lane.
//
// A record is a 24-byte header and the payload (see record.go): CRC-32C
// (Castagnoli) of the payload and the rest of the header, payload length,
// index, append time in Unix nanoseconds.
//
// # Group commit
//
// An Append frames its record into the open batch under the log's mutex.
// If no write is in progress it becomes the leader: it takes the batch,
// releases the mutex, writes the batch with one pwrite and one fsync, and
// wakes everyone; Appends arriving meanwhile fill the next batch, whose
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
// segment, it is a torn tail and is truncated.
package wal
