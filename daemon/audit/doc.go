// Package audit keeps kmsd's audit trail: one record for every request on
// every front end, allowed or denied, and for what kmsd does by itself
// (rotations, deletions). It is CloudTrail for one host, but verifiable:
//
//   - Records are JSON Lines appended to files in one directory, rotated
//     by size. A record never holds plaintext, key material, ciphertext or
//     data keys: its fields are chosen one by one (see Event).
//   - Every record carries "prev", the SHA-256 of the line before it, and
//     "seq", its number in the trail; the chain runs across files.
//   - Every second (and at rotation and shutdown) a checkpoint record
//     carries an HMAC-SHA256 of its seq and prev under a key only kmsd
//     holds, so nobody who edits the files can recompute the chain past a
//     checkpoint. kmsd keeps its latest checkpoint in its store, so a
//     trail cut short is noticed too.
//
// # Group commit
//
// [Writer.Append] takes the records of a group of requests and returns
// once they are written (and flushed, per [SyncMode]); a reply leaves only
// after that. Concurrent groups are written together: one write per pass,
// and the flush (fdatasync) per the mode: by default a flusher of its own
// flushes at most Config.FlushInterval later, off the replies' path.
// [Writer.AppendAsync] does the same without the wait, and
// [Writer.AppendNow] lets a caller that can wait write its group itself
// when the trail is idle. The items of a batch request that are alike in
// key, operation, encryption context and outcome are one group record
// (Event.Count items, and the indexes of those that failed), so the
// trail's work is per group, not per item; usage counts every item. When
// the trail cannot be written, Append fails and the writer refuses
// everything until a write succeeds again: nothing is answered unaudited.
//
// See docs/audit.md for the record schema and the chain.
package audit
