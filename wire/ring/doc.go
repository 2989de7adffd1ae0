// Package ring is the protocol's shared-memory transport: two byte rings
// in one memfd that a kmsd connection and its client both map, carrying
// the same frames as the socket (docs/wire-protocol.md, "Shared-memory
// rings"). The socket stays the control path: it says who the caller is
// (SO_PEERCRED), it carries Hello and the memfd (SCM_RIGHTS), and its end
// is the connection's end.
//
// # Layout
//
// A ring area is a 4 KiB header and then two data regions of Size bytes
// each (a power of two): requests (the client writes, kmsd reads) and
// answers (kmsd writes, the client reads). The header holds, each on its
// own 64-byte line, the magic and size, and for each ring its head (bytes
// written, counted from zero, never wrapping), its tail (bytes read) and
// two wait words: one its reader sleeps on for data, one its writer
// sleeps on for space. A side writes only its own index; it keeps its own
// copy of it and never reads it back from the area.
//
// # Waking
//
// A reader with nothing to read polls the head for a short window
// (yielding between looks, as package kmsd/internal/poll does for a
// socket) and then sleeps on its Bell: it sets its wait word's flag, looks
// once more, and reads the connection's socket (SocketBell), which parks
// only its goroutine. A writer that advanced the head and finds the flag
// set clears it and writes one byte on the socket; a reader that advanced
// the tail does the same for a writer waiting for room. So a side that is
// awake costs its peer no system call at all. (The wait words are not
// futexes: a Go thread blocked in a futex of its own holds its processor
// until the runtime's monitor takes it back; see Bell.)
//
// # A peer that lies
//
// kmsd maps what a client also maps and may write at any moment, so
// nothing read from the area is trusted: an index that puts more than
// Size bytes between head and tail, or moves backwards, is ErrCorrupt and
// ends the connection; bytes are copied out of the ring before they are
// parsed (the frame reader decodes its own copy, never the shared one); a
// wait word that wakes kmsd without data is survived by sleeping on
// (after a run of such wake-ups, a millisecond at a time, so that a
// client flipping it costs kmsd little). kmsd makes the memfd itself and
// seals its size (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL) before handing
// it over, so no peer can shrink it under kmsd's mapping; [Map] checks
// those seals on the other side too.
package ring
